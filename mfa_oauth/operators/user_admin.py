"""The operator tools on a user account, as a mixin for any ``UserAdmin`` (a custom user model too).

:class:`MFAUserAdminMixin` adds the user's second factors to the change form and the operator actions on
them (reset, unlock, backup codes, enroll TOTP/HOTP/SMS, test SMS). Its URLs and links are named from the
admin's own ``opts`` (Django's ``admin_urlname`` convention, ``<app_label>_<model_name>_<view>``), never
``auth_user_*``, so a project's own user model and admin work. The admin site of this package
(:class:`~mfa_oauth.operators.site.MFAAdminSite`) adds the mixin to whatever admin the user model is
registered with; on another site, put it first in the bases of the project's user admin.

Factors are listed through django-otp's ``devices_for_user`` and described with
``mfa_oauth.methods.method_of``, so every installed device type (TOTP, HOTP, backup codes, SMS,
WebAuthn, ...) shows up without this module knowing it. A Django ``InlineModelAdmin`` needs one
model; a user's factors span several, so the "inline" is a panel on the change form.

Every operator view here answers GET with a confirmation or a form and acts on POST only (other
methods: 405), after two checks of :mod:`.guard`: the operator's authority over the account
(:mod:`.authority`; refused with a message, the account's page then read-only) and the operator's
own fresh second factor. Django's own views of the account (change form, password, delete, bulk
actions) follow the same rules through :class:`.guard.OperatorGuardMixin`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import lockout
from ..backup_codes.models import BackupCodeDevice
from ..methods import method_of
from ..models import UserMFAState
from ..totp.flows import base32_secret, otpauth_uri, qr_svg
from . import services
from .forms import HOTPEnrollForm, SMSEnrollForm, TOTPEnrollForm
from .guard import OperatorGuardMixin, guarded, operator_step_up

if TYPE_CHECKING:  # a mixin for UserAdmin: type-check it as one
    from django.contrib.auth.admin import UserAdmin as _UserAdminBase
else:
    _UserAdminBase = object

NONCE_KEY = "mfa_oauth.operators.nonces"
OPERATOR_METHODS = ("GET", "POST")
# Who may grant what is a superuser's decision: an operator who could tick these could give
# themselves (or an accomplice) more than they hold (authority.authority_over compares the rest).
PRIVILEGE_FIELDS = ("is_superuser", "groups", "user_permissions")


def operator_action(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An operator view on one account: GET shows, POST acts, other methods 405; then the model
    permission (403), the authority over the account (a message, back to its page) and the
    operator's fresh second factor (to the challenge step and back), before ``view`` runs."""

    @wraps(view)
    def wrapped(self, request, object_id, *args, **kwargs):
        if request.method not in OPERATOR_METHODS:
            return HttpResponseNotAllowed(OPERATOR_METHODS)
        user = self._target(request, object_id)
        decision = self.operator_authority(request, user)
        if not decision.allowed:
            self.message_user(request, decision.reason, messages.ERROR)
            return self._back(user)
        step = operator_step_up(request)
        if step is not None:
            return step
        return view(self, request, user, *args, **kwargs)

    return wrapped


def factor_rows(user: Any) -> list[dict]:
    rows = []
    for device in services.all_devices(user):
        method = method_of(device)
        allowed, info = device.verify_is_allowed()
        rows.append(
            {
                "device": device,
                "method": method,
                "confirmed": device.confirmed,
                "created_at": getattr(device, "created_at", None),
                "last_used_at": getattr(device, "last_used_at", None),
                "failures": getattr(device, "throttling_failure_count", None),
                "throttled_until": (info or {}).get("locked_until") if not allowed else None,
                "remaining": device.remaining if isinstance(device, BackupCodeDevice) else None,
                "can_test_sms": method.name == "sms" and services.sms_installed(),
            }
        )
    return rows


MFA_ACTIONS = ("reset_second_factor", "unlock_second_factor")


class MFAUserAdminMixin(OperatorGuardMixin, _UserAdminBase):
    """For a ``UserAdmin`` (put it first in the bases): the factor panel and the operator actions."""

    change_form_template = "admin/mfa_oauth/user/change_form.html"

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Added to the admin's own actions rather than replacing its ``actions`` list; "change"
        # permission as @admin.action(permissions=["change"]) would ask, and refused as a whole when one
        # selected account is out of the operator's reach, like every other action (guard.guarded).
        actions = super().get_actions(request, action_location)
        if self.actions is None or IS_POPUP_VAR in request.GET or not self.has_change_permission(request):
            return actions
        for name in MFA_ACTIONS:
            # Django 6.1 lists an action only where its locations say (the change list, by default).
            if action_location is None:
                action = self.get_action(name)
            else:  # Django 6.1 (django-stubs describe 5.2's get_action)
                action = self.get_action(name, action_location)  # type: ignore[call-arg]
            if action is not None and name not in actions:
                actions[name] = guarded(action)
        return actions

    def admin_url_name(self, view: str) -> str:
        """This admin's URL name for ``view`` (``admin_urlname``: app label, model name, view)."""
        return f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_{view}"

    # --- authority: the account itself is the target -----------------------------------------

    def operator_target(self, obj: Any) -> Any:
        return obj

    def operator_targets(self, queryset: Any) -> Any:
        return queryset

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + tuple(f for f in PRIVILEGE_FIELDS if f not in fields)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        user = self.get_object(request, unquote(id))
        stopped = self._stopped(request, user) if user is not None else None
        return stopped or super().user_change_password(request, id, form_url)

    # --- the factor panel ---------------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        user = self.get_object(request, unquote(object_id))
        if user is not None:
            state = UserMFAState.objects.filter(user=user).first()
            extra_context.update(
                mfa_factors=factor_rows(user),
                mfa_state=state,
                mfa_locked=lockout.is_locked(user),
                mfa_sms_installed=services.sms_installed(),
                mfa_authority=self.operator_authority(request, user),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view

        def url(suffix: str, view, name: str):
            return path(f"<path:object_id>/mfa/{suffix}", wrap(view), name=f"{info[0]}_{info[1]}_mfa_{name}")

        return [
            url("reset/", self.reset_view, "reset"),
            url("unlock/", self.unlock_view, "unlock"),
            url("backup-codes/", self.backup_codes_view, "backup_codes"),
            url("enroll/totp/", self.enroll_totp_view, "enroll_totp"),
            url("enroll/hotp/", self.enroll_hotp_view, "enroll_hotp"),
            url("enroll/sms/", self.enroll_sms_view, "enroll_sms"),
            path(
                "<path:object_id>/mfa/test-sms/<int:device_pk>/",
                wrap(self.test_sms_view),
                name=f"{info[0]}_{info[1]}_mfa_test_sms",
            ),
            *super().get_urls(),
        ]

    # --- helpers ------------------------------------------------------------------------------

    def _target(self, request, object_id):
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404(_("No such user."))
        if not self.has_change_permission(request):  # the model permission; the authority is next
            raise PermissionDenied
        return user

    def _back(self, user: Any) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse(self.admin_url_name("change"), args=[user.pk]))

    def _page(self, request: HttpRequest, user: Any, template: str, title: str, **context: Any) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": user,
            "target": user,
            "title": title,
            **context,
        }
        response = TemplateResponse(request, f"admin/mfa_oauth/user/{template}", context)
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _new_nonce(request: HttpRequest) -> str:
        nonce = secrets.token_urlsafe(16)
        request.session[NONCE_KEY] = [*request.session.get(NONCE_KEY, [])[-9:], nonce]
        return nonce

    @staticmethod
    def _use_nonce(request: HttpRequest, nonce: str) -> bool:
        nonces = request.session.get(NONCE_KEY, [])
        if nonce not in nonces:
            return False
        nonces.remove(nonce)
        request.session[NONCE_KEY] = nonces
        return True

    # --- actions on one user ------------------------------------------------------------------

    @operator_action
    def reset_view(self, request: HttpRequest, user: Any) -> HttpResponse:
        if request.method == "POST":
            removed = services.reset(user, request=request)
            self.message_user(request, _("Removed %(n)d second factor(s) of %(user)s.") % {"n": removed, "user": user})
            return self._back(user)
        return self._page(
            request,
            user,
            "confirm.html",
            _("Reset the second factor"),
            question=_("Remove every second factor of this user and clear the lock? They will have to enroll again."),
            rows=factor_rows(user),
            button=_("Yes, remove all factors"),
        )

    @operator_action
    def unlock_view(self, request: HttpRequest, user: Any) -> HttpResponse:
        if request.method == "POST":
            services.unlock(user, request=request, actor=request.user)
            self.message_user(request, _("%(user)s can use their second factor again.") % {"user": user})
            return self._back(user)
        return self._page(
            request,
            user,
            "confirm.html",
            _("Unlock the second factor"),
            question=_("Clear the failure count and the lock of this user?"),
            button=_("Unlock"),
        )

    @operator_action
    def backup_codes_view(self, request: HttpRequest, user: Any) -> HttpResponse:
        if request.method == "POST":
            if not self._use_nonce(request, request.POST.get("nonce", "")):
                self.message_user(
                    request, _("Those codes were already shown once. Generate a new set if needed."), messages.WARNING
                )
                return self._back(user)
            codes = services.generate_backup_codes(user, request=request)
            return self._page(request, user, "backup_codes.html", _("Backup codes"), codes=codes)
        return self._page(
            request,
            user,
            "confirm.html",
            _("Generate backup codes"),
            question=_(
                "Create a new set of backup codes for this user? Their old codes stop working. The new codes "
                "are shown to you once, to hand over."
            ),
            button=_("Generate"),
            nonce=self._new_nonce(request),
        )

    @operator_action
    def enroll_totp_view(self, request: HttpRequest, user: Any) -> HttpResponse:
        if request.method == "POST":
            form = TOTPEnrollForm(request.POST)
            if form.is_valid():
                if not self._use_nonce(request, form.cleaned_data["nonce"]):
                    self.message_user(
                        request,
                        _("This device was already enrolled; its QR code is not shown again."),
                        messages.WARNING,
                    )
                    return self._back(user)
                device = services.enroll_totp(user, request=request, name=form.cleaned_data["name"])
                uri = otpauth_uri(device)
                return self._page(
                    request,
                    user,
                    "totp_qr.html",
                    _("Hand over the authenticator app"),
                    device=device,
                    secret=base32_secret(device),
                    qr_svg=qr_svg(uri),
                    otpauth_uri=uri,
                )
        else:
            form = TOTPEnrollForm(initial={"nonce": self._new_nonce(request)})
        return self._page(request, user, "enroll_form.html", _("Enroll an authenticator app"), form=form)

    @operator_action
    def enroll_hotp_view(self, request: HttpRequest, user: Any) -> HttpResponse:
        form = HOTPEnrollForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.enroll_hotp(
                    user,
                    form.cleaned_data["secret"],
                    counter=form.cleaned_data["counter"],
                    digits=form.cleaned_data["digits"],
                    name=form.cleaned_data["name"],
                    request=request,
                )
            except services.EnrollmentError as error:
                form.add_error("secret", error.user_message)
            else:
                self.message_user(request, _("Hardware token enrolled."))
                return self._back(user)
        return self._page(request, user, "enroll_form.html", _("Enroll a hardware token (HOTP)"), form=form)

    @operator_action
    def enroll_sms_view(self, request: HttpRequest, user: Any) -> HttpResponse:
        if not services.sms_installed():
            raise Http404(_("SMS is not enabled on this site."))
        form = SMSEnrollForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                services.enroll_sms(
                    user,
                    form.cleaned_data["number"],
                    name=form.cleaned_data["name"],
                    request=request,
                    actor=request.user,
                )
            except services.EnrollmentError as error:
                form.add_error("number", error.user_message)
            else:
                self.message_user(request, _("Number added, unverified until a code sent to it comes back."))
                return self._back(user)
        return self._page(request, user, "enroll_form.html", _("Enroll an SMS number"), form=form)

    @operator_action
    def test_sms_view(self, request: HttpRequest, user: Any, device_pk: int) -> HttpResponse:
        if not services.sms_installed():
            raise Http404(_("SMS is not enabled on this site."))
        device = next((d for d in services.all_devices(user) if method_of(d).name == "sms" and d.pk == device_pk), None)
        if device is None:
            raise Http404(_("No such SMS device."))
        if request.method == "POST":
            from ..sms import api

            try:
                api.send_test_message(device, request=request)  # audited as challenge_sent (purpose "test")
            except Exception as error:  # the SMS factor explains refusals with user_message
                message = getattr(error, "user_message", None)
                if not message:
                    raise
                self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(request, _("Test message queued."))
            return self._back(user)
        return self._page(
            request,
            user,
            "confirm.html",
            _("Send a test SMS"),
            question=_("Send a test message to %(device)s?") % {"device": device},
            button=_("Send"),
        )

    # --- bulk actions on the user list --------------------------------------------------------

    @admin.action(description=gettext_lazy("Reset the second factor of the selected users"), permissions=["change"])
    def reset_second_factor(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if request.POST.get("confirm") == "yes":
            total = sum(services.reset(user, request=request) for user in queryset)
            self.message_user(request, _("Removed %(n)d second factor(s).") % {"n": total})
            return None
        return self._bulk_confirm(
            request,
            queryset,
            "reset_second_factor",
            _("Remove every second factor of these users and clear their locks?"),
        )

    @admin.action(description=gettext_lazy("Unlock the second factor of the selected users"), permissions=["change"])
    def unlock_second_factor(self, request: HttpRequest, queryset: Any) -> None:
        for user in queryset:
            services.unlock(user, request=request, actor=request.user)
        self.message_user(request, _("Unlocked %(n)d user(s).") % {"n": queryset.count()})

    def _bulk_confirm(self, request: HttpRequest, queryset: Any, action: str, question: str) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Are you sure?"),
            "question": question,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/mfa_oauth/user/bulk_confirm.html", context)
