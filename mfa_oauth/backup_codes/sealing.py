"""New backup codes sealed into the page that shows them, for the one download that may follow.

Backup codes exist in clear only in the response that creates them (docs/security.md "Backup
codes"): nothing on the server keeps them, not the session, not the cache, not a table. The page
offers them once more as a file, so its download form carries them *sealed*: Fernet (AES-128-CBC
with HMAC-SHA256, and the time it was made) under a key derived from SECRET_KEY with HKDF (RFC
5869) for this purpose alone. The seal names a random one-time id that only the session that
generated the codes holds (and the user id), and it is accepted for :data:`DOWNLOAD_TTL` seconds:
a copy of the form is useless to another session, after the first download, after "done", and
after ten minutes. The session keeps only that id, which says nothing about any code.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.encoding import force_bytes

# Seconds the download form of a new set works: long enough to read the page and save the file.
DOWNLOAD_TTL = 600
_PURPOSE = b"mfa_oauth.backup_codes.download"


def _key(secret: str | bytes) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(force_bytes(secret))
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    # SECRET_KEY_FALLBACKS too: a key rotated in the minutes between the page and the download
    # does not break it (Django's documented rotation setting).
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_key(key)) for key in keys])


def new_download_id() -> str:
    return secrets.token_urlsafe(16)


def seal(codes: list[str], *, user_id: Any, download_id: str) -> str:
    payload = json.dumps({"user": str(user_id), "id": download_id, "codes": list(codes)})
    return _fernet().encrypt(payload.encode()).decode()


def unseal(token: str, *, user_id: Any, download_id: str | None) -> list[str] | None:
    """The codes, when ``token`` was sealed for this user and download id less than DOWNLOAD_TTL
    seconds ago; None for anything else (tampered, expired, another session's, or no id)."""
    if not token or not download_id or len(token) > 4096:
        return None
    try:
        data = json.loads(_fernet().decrypt(token.encode(), ttl=DOWNLOAD_TTL))
    except (InvalidToken, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("user") != str(user_id):
        return None
    if not secrets.compare_digest(str(data.get("id", "")), download_id):
        return None
    codes = data.get("codes")
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        return None
    return codes
