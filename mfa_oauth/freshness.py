"""What a signed-in session must have proved before an account page opens.

A complete sign-in (OWASP ASVS 6.3.4): the password, and the second factor proved in this session
when the user has one. Sensitive account changes need more: a *recent* second factor (NIST SP
800-63B-4 §4.1.2.1, ASVS 7.5.1). A factor recalled from a remembered browser (mfa_oauth.trust) was
proved in another session, so it counts for neither (docs/security.md, "Freshness").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

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


def step_up_redirect(request: HttpRequest, back: str | None = None) -> HttpResponse:
    response = HttpResponse(status=302)
    response["Location"] = with_next(reverse(mfa_settings.VERIFY_URL), back or request.get_full_path())
    return response


def fresh_mfa_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: log in first, then a fresh second factor when the user has one."""

    @password_step_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if needs_fresh_mfa(request):
            return step_up_redirect(request)
        return view(request, *args, **kwargs)

    return wrapped


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
