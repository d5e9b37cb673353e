"""The trust cookie: a signed (django.core.signing) reference to a TrustedBrowser row.

Signed, not encrypted: it holds a random row id and the user's pk, nothing secret. The signature
stops forgery; the row makes it revocable; the user pk binds it to one account.
"""

from __future__ import annotations

from typing import Any

from django.core import signing

from mfa_oauth.conf import settings as mfa_settings

SALT = "mfa_oauth.trust.cookie"


def cookie_name() -> str:
    base = mfa_settings.TRUSTED_BROWSER_COOKIE_NAME
    # __Host- (RFC 6265bis): Secure, Path=/, no Domain; browsers refuse it without Secure.
    return f"__Host-{base}" if mfa_settings.TRUSTED_BROWSER_COOKIE_SECURE else base


def dumps(user_pk: Any, browser_id: Any) -> str:
    return signing.dumps({"u": str(user_pk), "b": str(browser_id)}, salt=SALT)


def loads(value: str, max_age_seconds: int) -> tuple[str, str] | None:
    """(user pk, browser id) or None for anything forged, tampered, expired or malformed."""
    if not value or len(value) > 1024:
        return None
    try:
        data = signing.loads(value, salt=SALT, max_age=max_age_seconds)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("b"), str):
        return None
    return data["u"], data["b"]


def set_on(response: Any, value: str, max_age_seconds: int) -> None:
    response.set_cookie(
        cookie_name(),
        value,
        max_age=max_age_seconds,
        path="/",
        secure=bool(mfa_settings.TRUSTED_BROWSER_COOKIE_SECURE),
        httponly=True,
        samesite="Lax",
    )


def delete_from(response: Any) -> None:
    response.delete_cookie(cookie_name(), path="/", samesite="Lax")
