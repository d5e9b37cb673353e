"""The half-authenticated state expires: a password-only session has PENDING_MFA_TIMEOUT seconds to
add its second factor, and after that it starts again from the password (docs/security.md, "The
half-authenticated state").

One rule, asked everywhere it matters: by the authorization gate (:func:`mfa_oauth.policy.evaluate`)
before it sends a browser to the challenge, and by :func:`mfa_oauth.verify.flows.complete`, the one
place every factor goes through to be recorded in the session (codes, SMS, backup codes, a security
key's assertion, the first factor confirmed at enrollment), which raises :class:`PendingSessionExpired`
rather than record it. The views ask earlier as well, so that an expired session sends no text, hands
out no WebAuthn challenge and spends no code (a backup code or a TOTP step stays usable for the new
sign-in), and answer with :func:`restart` (pages) or :func:`restart_json` (the WebAuthn script).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

from .conf import settings as mfa_settings
from .context import AuthContext
from .redirects import see_other, with_next


class PendingSessionExpired(Exception):
    """A second factor offered to a password-only session older than PENDING_MFA_TIMEOUT."""


def expired(context: AuthContext | None, now: float | None = None) -> bool:
    """True when ``context`` proved no second factor and its password is older than the limit.

    A factor recalled from a trusted browser does not count: it is re-vouched for each request by
    the gate (mfa_oauth.trust), and the gate decides on the context without it. A context that has
    nothing left but such factors is not a sign-in at all, so it is expired too (deny by default)."""
    if context is None:
        return False
    context = context.without_remembered()
    if not context.factors:
        return True
    if context.is_multi_factor:
        return False
    now = time.time() if now is None else now
    return now - context.started_at > mfa_settings.PENDING_MFA_TIMEOUT


def message() -> str:
    return _("Your sign-in took too long to complete, so it was cancelled. Sign in again with your password.")


def _login_url(next_url: str) -> str:
    return with_next(resolve_url(settings.LOGIN_URL), next_url)


def _end_session(request: HttpRequest) -> None:
    if request.user.is_authenticated:
        logout(request)  # a new, empty session: nothing of the half-authenticated one survives
    # Django's default message storage tries a cookie first, so the message outlives the flush.
    messages.warning(request, message())


def restart(request: HttpRequest, next_url: str) -> HttpResponse:
    """Log out and send the browser to the login page, ``next`` kept (a 303, also after a POST)."""
    _end_session(request)
    return see_other(_login_url(next_url))


def restart_json(request: HttpRequest, next_url: str) -> JsonResponse:
    """:func:`restart` for a script: 401, the message, and where to sign in again."""
    _end_session(request)
    return JsonResponse({"error": message(), "redirect": _login_url(next_url)}, status=401)
