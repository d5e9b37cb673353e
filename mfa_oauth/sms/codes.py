"""The code itself: 6 digits from ``secrets``, stored as a keyed hash, and sealed for the outbox.

A 6-digit code has a million values, so a plain hash would fall to a table lookup; the digest is
an HMAC keyed with SECRET_KEY and a per-code salt, so a database dump alone reveals nothing.
The worker needs the code in clear to text it, so the outbox row carries it sealed (Fernet, key
derived from SECRET_KEY) until the message left or the code expired, then the seal is wiped.
The broker only ever carries the row's id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from ..conf import settings as mfa_settings

CODE_DIGITS = 6
MIN_VALIDITY = 30
MAX_VALIDITY = 600  # NIST SP 800-63B-4 §3.1.3.2: at most 10 minutes


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def validity_seconds() -> int:
    return max(MIN_VALIDITY, min(int(mfa_settings.SMS_CODE_VALIDITY), MAX_VALIDITY))


def new_salt() -> str:
    return secrets.token_hex(16)


def digest(code: str, salt: str) -> str:
    key = hashlib.sha256(b"mfa_oauth.sms.code:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(code: str, salt: str, expected: str) -> bool:
    return hmac.compare_digest(digest(code, salt), expected)


def _fernet() -> Fernet:
    key = hashlib.sha256(b"mfa_oauth.sms.outbox:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(code: str) -> str:
    return _fernet().encrypt(code.encode()).decode()


def unseal(token: str) -> str | None:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None
