"""Login forms that say why a throttled attempt was refused, and for how long.

The refusal itself happens in the backend (mfa_oauth.throttle.backends); with Django's plain
``AuthenticationForm`` a throttled user would only read "enter a correct username and password".
The mixin swaps that for "Too many failed attempts. Try again in N minutes." through the form's
``get_invalid_login_error`` hook, and exposes the refusal as ``form.throttled`` for templates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .backends import refusal_of
from .counters import Refusal

if TYPE_CHECKING:  # a mixin for AuthenticationForm: type-check it as one
    _FormBase = AuthenticationForm
else:
    _FormBase = object


class ThrottleMessageMixin(_FormBase):
    """For any subclass of Django's ``AuthenticationForm``."""

    @property
    def throttled(self) -> Refusal | None:
        return refusal_of(getattr(self, "request", None))

    def get_invalid_login_error(self) -> ValidationError:
        refusal = self.throttled
        if refusal is None:
            return super().get_invalid_login_error()
        return ValidationError(refusal.message, code="throttled")


class ThrottledAuthenticationForm(ThrottleMessageMixin, AuthenticationForm):
    """Django's login form with the throttle's message (``LoginView.form_class``)."""


class ThrottledAdminAuthenticationForm(ThrottleMessageMixin, AdminAuthenticationForm):
    """The admin's login form with the throttle's message (``AdminSite.login_form``)."""
