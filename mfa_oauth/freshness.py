"""What a signed-in session must have proved before an account page opens.

A complete sign-in (OWASP ASVS 6.3.4): the password, and the second factor proved in this session
when the user has one. Sensitive account changes need more: a *recent* second factor (NIST SP
800-63B-4 §4.1.2.1, ASVS 7.5.1). A factor recalled from a remembered browser (mfa_oauth.trust) was
proved in another session, so it counts for neither (docs/security.md, "Freshness").
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from .conf import settings as mfa_settings
from .context import get_context
from .methods import has_second_factor
from .redirects import with_next


def password_step_passed(request: HttpRequest) -> bool:
    """Signed in with this package's authentication context started (the password step, or a passkey
    sign-in, passed in this session)."""
    return bool(request.user.is_authenticated) and get_context(request) is not None


def password_step_required(
    view: Callable[..., HttpResponse] | None = None,
    *,
    refuse: Callable[[HttpRequest], HttpResponse] | None = None,
) -> Any:
    """Decorator: the view runs only after :func:`password_step_passed`; otherwise ``refuse(request)``
    answers (default: the login page, coming back here). Works on a view function, and on a class's
    ``dispatch`` through ``method_decorator``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not password_step_passed(request):
                return refuse(request) if refuse is not None else redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def needs_fresh_mfa(request: HttpRequest) -> bool:
    """True when the user has a second factor and has not proved one in this session within FRESH_MFA_WINDOW."""
    if not has_second_factor(request.user):
        return False
    context = get_context(request)
    mfa_time = context.mfa_time if context else None  # never a remembered factor's time
    return mfa_time is None or time.time() - mfa_time > mfa_settings.FRESH_MFA_WINDOW


# The change a step-up interrupted: what the user typed, kept in their session (never in a URL) until
# the second factor is proved, then carried out once (docs/journeys.md, "Nothing typed is lost").
INTERRUPTED_KEY = "mfa_oauth.freshness.interrupted"
RESUME_PARAM = "mfa_resume"
# Long enough to find a phone and type a code; an older change is not carried out unasked.
INTERRUPTED_TTL = 15 * 60
DEFAULT_REASON = gettext_lazy("make this change")


def step_up_redirect(
    request, back: str | None = None, *, reason: str | Promise | None = None, keep_post: bool = False
) -> HttpResponse:
    """To the challenge, and back to ``back`` (default: this request's URL) after it.

    ``reason`` completes "Confirm it's you to …" on the challenge page. With ``keep_post`` a POST's
    fields (not its CSRF token) are kept in the session and the way back carries a one-time
    ``mfa_resume`` id, so :func:`resume` can carry the change out after the second factor."""
    back = back or request.get_full_path()
    entry = {"back": back, "reason": str(reason or DEFAULT_REASON), "at": int(time.time())}
    if keep_post and request.method == "POST":
        fields = request.POST.copy()
        fields.pop("csrfmiddlewaretoken", None)
        entry["token"] = secrets.token_urlsafe(16)
        entry["path"] = request.path
        entry["post"] = fields.urlencode()
        back = f"{request.path}?{urlencode({RESUME_PARAM: entry['token']})}"
        entry["back"] = back
    if reason or keep_post:
        request.session[INTERRUPTED_KEY] = entry
    response = HttpResponse(status=302)
    response["Location"] = with_next(reverse(mfa_settings.VERIFY_URL), back)
    return response


def interrupted(request, next_url: str) -> dict:
    """Why the challenge asks, when reached from a step-up on the way to ``next_url``: ``reason``
    ("" when not) and ``kept`` (a POST waits to be carried out after it)."""
    entry = request.session.get(INTERRUPTED_KEY) if hasattr(request, "session") else None
    if not isinstance(entry, dict) or entry.get("back") != next_url:
        return {"reason": "", "kept": False}
    if time.time() - entry.get("at", 0) > INTERRUPTED_TTL:
        return {"reason": "", "kept": False}
    return {"reason": str(entry.get("reason") or ""), "kept": bool(entry.get("token"))}


def resume(request) -> bool:
    """Turn this GET back into the POST a step-up interrupted, once; True when it did.

    Only the session that made the POST holds its fields and the one-time id, and the original POST
    passed Django's CSRF check, so carrying it out on the way back from the challenge adds nothing
    another site could trigger (the id is unguessable and is consumed here)."""
    token = request.GET.get(RESUME_PARAM) if request.method == "GET" else None
    if not token or not request.user.is_authenticated:
        return False
    entry = request.session.get(INTERRUPTED_KEY)
    if (
        not isinstance(entry, dict)
        or not entry.get("token")
        or not secrets.compare_digest(str(entry["token"]), str(token))
        or entry.get("path") != request.path
        or time.time() - entry.get("at", 0) > INTERRUPTED_TTL
    ):
        return False
    if needs_fresh_mfa(request):  # still stale (the challenge was skipped): the entry waits
        return False
    request.session.pop(INTERRUPTED_KEY, None)
    request.method = "POST"
    request.POST = QueryDict(entry.get("post", ""))
    return True


def resumable(view: Callable) -> Callable:
    """Decorator for outside a method check (``require_POST``): the way back from a step-up is a
    GET, which :func:`resume` turns into the kept POST before the method check sees it."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        resume(request)
        return view(request, *args, **kwargs)

    return wrapped


def fresh_mfa_required(view: Callable | None = None, *, reason: str | Promise | None = None) -> Any:
    """Decorator: log in first, then a fresh second factor when the user has one.

    A POST refused for freshness is kept and carried out after the second factor (:func:`resume`);
    ``reason`` says on the challenge page what it is for ("rename this factor")."""

    def decorate(view: Callable) -> Callable:
        @password_step_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if needs_fresh_mfa(request):
                return step_up_redirect(request, reason=reason, keep_post=True)
            resume(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def sign_in_complete(request: HttpRequest) -> bool:
    """Signed in, and past a second factor proved in this session when the user has one."""
    if not password_step_passed(request):
        return False
    context = get_context(request)
    return context is not None and context.mfa_time is not None or not has_second_factor(request.user)


def complete_sign_in_required(view: Callable | None = None, *, back_to: str = "") -> Any:
    """Decorator: log in first, then the second factor of this session when the user has one.

    The login and the challenge return with a GET: for any other method the browser comes back to
    ``back_to`` (a URL name), else to the request's own URL. Put a method check (``require_POST``,
    ``require_GET``) outside it, so a method the view does not serve is a 405 for everyone."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if sign_in_complete(request):
                return view(request, *args, **kwargs)
            back = request.get_full_path() if request.method == "GET" or not back_to else reverse(back_to)
            if not password_step_passed(request):
                return redirect_to_login(back)
            return step_up_redirect(request, back)

        return wrapped

    return decorate(view) if view is not None else decorate
