"""Sensitive account changes need a recent second factor (NIST SP 800-63B-4 §4.1.2.1, ASVS 7.5.1)."""

from __future__ import annotations

import time
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse

from .conf import settings as mfa_settings
from .context import get_context
from .methods import has_second_factor
from .redirects import with_next


def needs_fresh_mfa(request) -> bool:
    """True when the user has a second factor and has not used one within FRESH_MFA_WINDOW."""
    if not has_second_factor(request.user):
        return False
    context = get_context(request)
    mfa_time = context.mfa_time if context else None
    return mfa_time is None or time.time() - mfa_time > mfa_settings.FRESH_MFA_WINDOW


def step_up_redirect(request) -> HttpResponse:
    response = HttpResponse(status=302)
    response["Location"] = with_next(reverse(mfa_settings.VERIFY_URL), request.get_full_path())
    return response


def fresh_mfa_required(view):
    """Decorator: log in first, then a fresh second factor when the user has one."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated or get_context(request) is None:
            return redirect_to_login(request.get_full_path())
        if needs_fresh_mfa(request):
            return step_up_redirect(request)
        return view(request, *args, **kwargs)

    return wrapped
