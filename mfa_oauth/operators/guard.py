"""The admin's operator actions: authority over the account acted on, and the operator's own fresh
second factor.

Two rules, for every admin view that changes an account or its factors (``docs/security.md``,
"Operator actions"):

* **Authority** (:mod:`.authority`): an account worth more than the operator's own is read-only to
  them, with a message saying why. Enforced through Django's object-level permission hooks
  (``ModelAdmin.has_change_permission``/``has_delete_permission`` with ``obj``), which Django's own
  change, password and delete views and the ``delete_selected`` action already consult, plus the
  form's ``user`` field (moving a device onto another account) and every admin action.
* **A fresh second factor of the operator** (NIST SP 800-63B-4 §4.1.2.1: re-authentication before
  a sensitive change), with the mechanism the account pages use (:mod:`mfa_oauth.freshness`): a
  stale operator is sent to the challenge step and comes back to the page; the request that found
  them stale changes nothing.
"""

from __future__ import annotations

import dataclasses
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.models import Device

from ..conf import settings as mfa_settings
from ..freshness import needs_fresh_mfa, password_step_passed, step_up_redirect
from ..methods import has_second_factor
from ..redirects import with_next
from .authority import Authority, authority_over, refusals

if TYPE_CHECKING:  # a mixin for ModelAdmin: type-check it as one
    from django.contrib.admin import ModelAdmin as _ModelAdminBase
else:
    _ModelAdminBase = object

# Models that are not django-otp devices but still hold a user's second-factor state: the lock
# (unlocking is a reset of the guessing budget) and the remembered browsers.
FACTOR_STATE_MODELS = frozenset({"mfa_oauth.usermfastate", "mfa_oauth_trust.trustedbrowser"})


def is_factor_model(model: Any) -> bool:
    """Does a row of ``model`` belong to one user's second factor?"""
    return issubclass(model, Device) or model._meta.label_lower in FACTOR_STATE_MODELS


def is_credential_model(model: Any) -> bool:
    """Is ``model`` one of django-oauth-toolkit's issued credentials (codes, tokens, device grants)?"""
    from oauth2_provider.settings import oauth2_settings

    names = (
        oauth2_settings.ACCESS_TOKEN_MODEL,
        oauth2_settings.REFRESH_TOKEN_MODEL,
        oauth2_settings.ID_TOKEN_MODEL,
        oauth2_settings.GRANT_MODEL,
        oauth2_settings.DEVICE_GRANT_MODEL,
    )
    return model._meta.label_lower in {name.lower() for name in names}


def operator_step_up(request: HttpRequest) -> HttpResponse | None:
    """None when the operator may act now; otherwise the response that sends them to prove it."""
    if not password_step_passed(request):
        return redirect_to_login(request.get_full_path())
    if not has_second_factor(request.user):
        # Unlike an account page, an operator without any second factor is not waved through:
        # they enroll one of their own first.
        response = HttpResponse(status=302)
        response["Location"] = with_next(reverse(mfa_settings.ENROLL_URL), request.get_full_path())
        return response
    if needs_fresh_mfa(request):
        if request.method == "POST":
            messages.warning(request, _("Nothing was changed: confirm your second factor, then try again."))
        # The admin's own forms are not kept (the warning says so); the challenge says what it is for.
        return step_up_redirect(request, reason=_("change another user's sign-in"))
    return None


class OperatorGuardMixin(_ModelAdminBase):
    """For a ``ModelAdmin`` whose objects belong to a user account (put it first in the bases)."""

    def operator_target(self, obj: Any) -> Any:
        """The account ``obj`` belongs to."""
        return getattr(obj, "user", None)

    def operator_targets(self, queryset: Any) -> Any:
        """The accounts the objects of ``queryset`` belong to (an admin action's selection)."""
        return get_user_model().objects.filter(pk__in=queryset.values("user"))

    def operator_authority(self, request: HttpRequest, obj: Any) -> Authority:
        target = self.operator_target(obj) if obj is not None else None
        if target is None:
            return Authority(True)
        decisions = request.__dict__.setdefault("_mfa_operator_authority", {})
        if target.pk not in decisions:
            decisions[target.pk] = authority_over(request.user, target)
        return decisions[target.pk]

    # --- Django's permission hooks (object level) -----------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self.operator_authority(request, obj).allowed)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self.operator_authority(request, obj).allowed)

    # --- the views ------------------------------------------------------------------------------

    def _refused(self, request: HttpRequest, obj: Any, *, to: str) -> HttpResponse | None:
        decision = self.operator_authority(request, obj)
        if decision.allowed:
            return None
        self.message_user(request, decision.reason, messages.ERROR)
        return HttpResponseRedirect(to)

    def _change_url(self, obj: Any) -> str:
        opts = self.opts
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is not None and not self.operator_authority(request, obj).allowed:
            if request.method == "POST":
                return self._refused(request, obj, to=request.get_full_path()) or HttpResponseRedirect(
                    request.get_full_path()
                )  # _refused answers whenever the authority says no, as it does here
            # Django shows the read-only page (view permission); say why it is read-only.
            self.message_user(request, self.operator_authority(request, obj).reason, messages.WARNING)
        elif request.method == "POST":
            step = operator_step_up(request)
            if step is not None:
                return step
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _stopped(self, request: HttpRequest, obj: Any) -> HttpResponse | None:
        """Why a view acting on ``obj`` must not go on: the account is out of reach, or (for a POST)
        the operator's second factor is stale. None: go on."""
        if obj is not None:
            refused = self._refused(request, obj, to=self._change_url(obj))
            if refused is not None:
                return refused
        return operator_step_up(request) if request.method == "POST" else None

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        stopped = self._stopped(request, self.get_object(request, unquote(object_id)))
        return stopped or super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "POST":  # admin actions and list_editable
            step = operator_step_up(request)
            if step is not None:
                return step
        return super().changelist_view(request, extra_context)

    # --- the form and the actions ---------------------------------------------------------------

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        if "user" not in form.base_fields:
            return form
        operator = request.user

        class OperatorGuardedForm(form):
            def clean(self):
                cleaned = super().clean()
                target = cleaned.get("user")
                if target is not None:  # a device added to, or moved onto, this account
                    decision = authority_over(operator, target)
                    if not decision.allowed:
                        self.add_error("user", decision.reason)
                return cleaned

        OperatorGuardedForm.__name__ = form.__name__
        return OperatorGuardedForm

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Every action Django lists is the one it runs (response_action looks it up here, on the
        # change list and, from Django 6.1, on the change form), so each is guarded here.
        return {name: guarded(action) for name, action in admin_actions(super(), request, action_location).items()}


def admin_actions(admin: Any, request: HttpRequest, action_location: Any) -> dict[str, Any]:
    """``admin.get_actions()`` for ``action_location``: Django 6.1 asks per location (the change list
    or the change form) and passes it; before 6.1 there is one list and no such argument."""
    if action_location is None:
        return admin.get_actions(request)
    return admin.get_actions(request, action_location=action_location)


def guarded(action: Any) -> Any:
    """An admin action as ``get_actions()`` lists it, running under :func:`_guarded_action`: a
    ``(func, name, description)`` tuple before Django 6.1, an ``Action`` (with its plural description
    and locations kept) from 6.1 on."""
    if isinstance(action, tuple):
        func, name, description = action
        return (_guarded_action(func), name, description)
    return dataclasses.replace(action, func=_guarded_action(action.func))


def _guarded_action(func):
    """An admin action that refuses its whole selection when one account in it is out of reach:
    nothing is done at all, rather than some of it."""

    @wraps(func)
    def action(modeladmin, request, queryset):
        refused = refusals(request.user, modeladmin.operator_targets(queryset))
        if refused:
            reasons = " ".join(decision.reason for decision in refused)
            message = _("Nothing was changed. %(reasons)s") % {"reasons": reasons}
            modeladmin.message_user(request, message, messages.ERROR)
            return None
        return func(modeladmin, request, queryset)

    return action


class IssuedCredentialGuardMixin(OperatorGuardMixin):
    """For the admin of DOT's codes and tokens: they are viewed and revoked (deleted), never typed in.

    A token added or edited in the admin would be one no second-factor gate ever approved, with an
    authentication record it does not have (docs/security.md, "Deny by default"), so nobody, a
    superuser included, adds or changes one here. Deleting one revokes it, under the same authority
    and fresh-second-factor rules as any operator action."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
