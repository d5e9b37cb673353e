"""DOT's device-flow views (RFC 8628) with the MFA gate in front of every user-facing step.

Extension point: subclasses of ``oauth2_provider.views.device`` views. The user who types the
user code and approves the device passes exactly the evaluation ``/o/authorize/`` applies
(client policy, second factor, enrollment, remembered browser); the approval freezes the
session's authentication onto the device grant so the tokens carry acr/amr/auth_time.
"""

from __future__ import annotations

import json

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from oauth2_provider.models import get_application_model
from oauth2_provider.views import device as dot_device

from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import add_factor, get_context
from mfa_oauth.policy import AuthRequest, EffectivePolicy, Outcome, evaluate, substitute_second_factor
from mfa_oauth.redirects import with_next

from .flows import record_approval


def gate(request: HttpRequest, application) -> HttpResponse | None:
    """None when the session may act for ``application``; otherwise where the browser goes next."""
    if not request.user.is_authenticated or get_context(request) is None:
        return redirect_to_login(request.get_full_path())
    policy = EffectivePolicy.for_application(application)
    auth_request = AuthRequest()  # RFC 8628 carries no prompt/max_age/acr_values
    decision = evaluate(user=request.user, context=get_context(request), policy=policy, auth_request=auth_request)
    if decision.outcome is Outcome.SECOND_FACTOR:
        factor = substitute_second_factor(
            request, application=application, policy=policy, auth_request=auth_request, decision=decision
        )
        if factor is not None:
            add_factor(request, factor)
            decision = evaluate(
                user=request.user, context=get_context(request), policy=policy, auth_request=auth_request
            )
    if decision.satisfied:
        return None
    back = request.get_full_path()
    if decision.outcome is Outcome.LOGIN:
        logout(request)
        return redirect_to_login(back)
    if decision.outcome is Outcome.ENROLL:
        return _found(with_next(reverse(mfa_settings.ENROLL_URL), back))
    if decision.outcome is Outcome.SECOND_FACTOR:
        return _found(
            with_next(
                reverse(mfa_settings.VERIFY_URL),
                back,
                level=str(decision.required_level),
                methods=",".join(decision.allowed_methods),
            )
        )
    return render(
        request,
        "mfa_oauth/device/unmet.html",
        {"reason": decision.reason or "The required authentication level cannot be reached."},
        status=403,
    )


def _found(url: str) -> HttpResponse:
    response = HttpResponse(status=302)
    response["Location"] = url
    return response


class DeviceAuthorizationView(dot_device.DeviceAuthorizationView):
    """The device's first call. Fills in ``verification_uri`` from this site when no setting names it."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        data = json.loads(response.content)
        if not data.get("verification_uri"):
            data["verification_uri"] = request.build_absolute_uri(reverse("oauth2_provider:device"))
        if not data.get("verification_uri_complete"):
            data["verification_uri_complete"] = f"{data['verification_uri']}?user_code={data['user_code']}"
        fixed = JsonResponse(data)
        fixed["Cache-Control"] = "no-store"
        return fixed


@method_decorator(never_cache, name="dispatch")
class DeviceUserCodeView(dot_device.DeviceUserCodeView):
    template_name = "mfa_oauth/device/user_code.html"

    def dispatch(self, request, *args, **kwargs):
        # The client is not known before the code is typed: the site default policy applies here,
        # and the client's own policy again on the approval page.
        return gate(request, None) or super().dispatch(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class DeviceConfirmView(dot_device.DeviceConfirmView):
    template_name = "mfa_oauth/device/accept_deny.html"

    def dispatch(self, request, *args, **kwargs):
        client_id = kwargs.get("client_id", "")
        application = get_application_model().objects.select_related("mfa_policy").filter(client_id=client_id).first()
        return gate(request, application) or super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        if form.cleaned_data["action"] != "accept":
            return super().form_valid(form)
        with transaction.atomic():
            # Frozen in the same transaction as the approval: an approved grant always has its record.
            record_approval(self.get_object(), self.request.user, get_context(self.request))
            return super().form_valid(form)


class DeviceGrantStatusView(dot_device.DeviceGrantStatusView):
    template_name = "mfa_oauth/device/device_grant_status.html"
