"""The admin site with a second factor for staff (the role of django-otp's ``OTPAdminSite``).

django-otp's ``OTPAdminSite`` asks for the code inside the admin login form, which would bypass
this project's challenge step (hard lockout cap, audit, notifications) and leave staff without a
device locked out. Instead, staff who passed the password are sent through the same challenge
step as everyone else — or, without any device, through TOTP enrollment first — and come back
verified (``request.user.is_verified()``, set by django-otp's ``OTPMiddleware`` or by
``mfa_oauth.otp_middleware.LazyOTPMiddleware``).

The admin of every model holding a user's second factor (any django-otp ``Device``: TOTP, HOTP,
SMS, WebAuthn, backup codes, those of plugins; the lock state; the remembered browsers) gets
:class:`~mfa_oauth.operators.guard.OperatorGuardMixin` when it is registered here, whoever
registers it: an operator changes such a row only with authority over its user and a fresh second
factor of their own (``docs/security.md``, "Operator actions"). django-oauth-toolkit's codes and
tokens get :class:`~mfa_oauth.operators.guard.IssuedCredentialGuardMixin`: viewed and revoked, never
added or edited, since no second-factor gate approved a token typed into a form. The user model's admin,
the project's own included, gets :class:`~mfa_oauth.operators.user_admin.MFAUserAdminMixin` (the factor
panel and the operator actions).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from ..conf import settings as mfa_settings
from ..context import get_context
from ..methods import has_second_factor
from ..redirects import safe_next, with_next
from ..throttle.forms import ThrottledAdminAuthenticationForm
from ..throttle.views import mark_throttled
from .guard import IssuedCredentialGuardMixin, OperatorGuardMixin, is_credential_model, is_factor_model
from .user_admin import MFAUserAdminMixin


def staff_mfa_verified(request: HttpRequest) -> bool:
    user = request.user
    context = get_context(request)
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified() and context is not None and context.second_factors)


def _guard_for(model: type, admin_class: type) -> type | None:
    """The mixin ``admin_class`` lacks for ``model``, or None."""
    if model is get_user_model():
        wanted: type = MFAUserAdminMixin  # the factor panel and operator actions, on the project's admin
    elif is_credential_model(model):
        wanted = IssuedCredentialGuardMixin
    elif is_factor_model(model):
        wanted = OperatorGuardMixin
    else:
        return None
    return None if issubclass(admin_class, wanted) else wanted


class MFAAdminSite(admin.AdminSite):
    index_template = "admin/mfa_oauth/index.html"
    # The password throttle is in the authentication backend (mfa_oauth.throttle); this form says
    # "Too many failed attempts. Try again in N minutes." instead of "enter a correct password".
    login_form = ThrottledAdminAuthenticationForm

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        # Extension point: AdminSite.register, through which django-otp's plugins and ours register.
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        for model in models:
            admin_class_for_model = admin_class or admin.ModelAdmin
            guard = _guard_for(model, admin_class_for_model)
            if guard is not None:
                admin_class_for_model = type(
                    admin_class_for_model.__name__,
                    (guard, admin_class_for_model),
                    {"__module__": admin_class_for_model.__module__},
                )
            super().register(cast(Any, model), admin_class_for_model, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and staff_mfa_verified(request)

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not staff_mfa_verified(request):
            back = safe_next(request, request.GET.get("next"), default=reverse("admin:index", current_app=self.name))
            if get_context(request) is not None:
                step = mfa_settings.VERIFY_URL if has_second_factor(user) else mfa_settings.ENROLL_URL
                response = HttpResponse(status=302)
                response["Location"] = with_next(reverse(step), back)
                return response
        return mark_throttled(request, super().login(request, extra_context))

    def get_urls(self) -> list[Any]:
        from .overview import overview_view

        return [
            path("mfa-overview/", self.admin_view(overview_view), name="mfa-overview"),
            *super().get_urls(),
        ]
