"""WebAuthn challenges kept server-side in the (database-backed) session: one per purpose,
consumed by the first response that names it, whatever the outcome, and expiring.

A challenge never leaves the server except inside the options the browser signs over, so a
response made for another session (or replayed) cannot match (WebAuthn L2 §7.1 step 8, §7.2 step 12)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from webauthn.helpers import bytes_to_base64url, generate_challenge

from .config import challenge_timeout

SESSION_KEY = "mfa_oauth.webauthn.challenges"
PURPOSES = ("register", "authenticate", "passkey")


@dataclass(frozen=True)
class PendingChallenge:
    challenge: bytes
    purpose: str
    user_id: Any
    user_verification_required: bool
    expires: float
    extra: dict

    @property
    def expired(self) -> bool:
        return time.time() > self.expires


def issue(request: HttpRequest, purpose: str, *, user_verification_required: bool, **extra: Any) -> bytes:
    """A fresh 64-byte challenge (py_webauthn's generate_challenge; L2 §13.4.3 asks for >= 16)."""
    assert purpose in PURPOSES
    challenge = generate_challenge()
    user = getattr(request, "user", None)
    pending = dict(request.session.get(SESSION_KEY) or {})
    pending[purpose] = {
        "challenge": bytes_to_base64url(challenge),
        "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
        "uv": bool(user_verification_required),
        "expires": time.time() + challenge_timeout(),
        "extra": extra,
    }
    request.session[SESSION_KEY] = pending
    return challenge


def consume(request: HttpRequest, purpose: str) -> PendingChallenge | None:
    """Remove and return this session's challenge for ``purpose``; None when absent or expired."""
    pending = dict(request.session.get(SESSION_KEY) or {})
    data = pending.pop(purpose, None)
    request.session[SESSION_KEY] = pending
    if not isinstance(data, dict):
        return None
    from webauthn.helpers import base64url_to_bytes

    try:
        found = PendingChallenge(
            challenge=base64url_to_bytes(data["challenge"]),
            purpose=purpose,
            user_id=data.get("user_id"),
            user_verification_required=bool(data.get("uv")),
            expires=float(data["expires"]),
            extra=dict(data.get("extra") or {}),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return None if found.expired else found
