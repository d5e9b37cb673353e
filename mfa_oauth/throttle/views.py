"""Answer a throttled login with 429 Too Many Requests and Retry-After (RFC 6585 §4), or 503 when
the counters could not be reached (RFC 9110 §15.6.4).

The page is still the login form with its message, so a person reads when to come back and a
script is told in the header (NIST SP 800-63B-4 §3.2.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

from ..adapter import get_form_class
from .backends import refusal_of
from .forms import ThrottledAuthenticationForm

if TYPE_CHECKING:  # a mixin for LoginView: type-check it as one
    from django.contrib.auth.views import LoginView as _LoginViewBase
else:
    _LoginViewBase = object


def mark_throttled(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Turn ``response`` into a 429 (503) with Retry-After when the backend refused this request's login."""
    refusal = refusal_of(request)
    if refusal is not None and response.status_code == 200:
        response.status_code = 503 if refusal.unavailable else 429
        response["Retry-After"] = str(refusal.retry_after)
    return response


class ThrottledLoginViewMixin(_LoginViewBase):
    """For a subclass of ``django.contrib.auth.views.LoginView``."""

    form_class = ThrottledAuthenticationForm

    def get_form_class(self) -> type:
        # MFA_OAUTH["FORMS"]["login"] swaps it (mfa_oauth.adapter.get_form_class).
        return get_form_class("login")

    def form_invalid(self, form):
        return mark_throttled(self.request, super().form_invalid(form))
