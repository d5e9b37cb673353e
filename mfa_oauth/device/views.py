"""DOT's device-flow views (RFC 8628) with the MFA gate in front of every user-facing step.

Extension point: subclasses of ``oauth2_provider.views.device`` views. The user who types the
user code and approves the device passes exactly the evaluation ``/o/authorize/`` applies
(client policy, second factor, enrollment, remembered browser); the approval freezes the
session's authentication onto the device grant so the tokens carry acr/amr/auth_time.
"""

from __future__ import annotations

import json
from dataclasses import fields as dataclass_fields
from typing import Any, cast

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from oauth2_provider.models import DeviceCodeResponse, DeviceRequest, create_device_grant, get_application_model
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.views import device as dot_device

from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import get_context
from mfa_oauth.freshness import password_step_passed
from mfa_oauth.http import MFAHttpRequest
from mfa_oauth.policy import AuthRequest, EffectivePolicy, Outcome, gate_decision
from mfa_oauth.redirects import with_next

from .flows import record_approval


def gate(request: HttpRequest, application: Any) -> HttpResponse | None:
    """None when the session may act for ``application``; otherwise where the browser goes next.

    The context the decision was made on is left in ``request.mfa_oauth_context`` for the approval."""
    if not password_step_passed(request):
        return redirect_to_login(request.get_full_path())
    state = cast(MFAHttpRequest, request)  # where the approval finds the gate's answer
    decision, state.mfa_oauth_context = gate_decision(
        request,
        application=application,
        context=get_context(request),
        policy=EffectivePolicy.for_application(application),
        auth_request=AuthRequest(),  # RFC 8628 carries no prompt/max_age/acr_values
    )
    if decision.satisfied:
        # What the approval checks: the gate said yes in this very request (docs/security.md).
        state.mfa_oauth_gate_approved = True
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
    """The device's first call (RFC 8628 §3.1-3.2).

    Re-implements DOT's ``post``: with oauthlib 4 the endpoint's answer also carries ``scope``,
    which DOT 3.4.1's ``DeviceCodeResponse`` rejects (a 500). Fills in ``verification_uri`` from
    this site when no setting names it."""

    # Deny by default: every other method (HEAD, PUT, which FormView treats as POST, ...) is a 405.
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        headers, body, status = self.create_device_authorization_response(request)
        if status != 200:
            return JsonResponse(json.loads(body), status=status, headers=headers)
        data = dict(body)
        client_id = request.POST.get("client_id", "")
        application = get_application_model().objects.filter(client_id=client_id).first()
        if application is None:  # validated by oauthlib already; never a KeyError/500 here
            return JsonResponse({"error": "invalid_client"}, status=401)
        scope = request.POST.get("scope", "").strip() or " ".join(
            get_scopes_backend().get_default_scopes(application=application, request=request)
        )
        if not data.get("verification_uri"):
            data["verification_uri"] = request.build_absolute_uri(reverse("oauth2_provider:device"))
        if not data.get("verification_uri_complete"):
            data["verification_uri_complete"] = f"{data['verification_uri']}?user_code={data['user_code']}"
        fields = {f.name for f in dataclass_fields(DeviceCodeResponse)}
        create_device_grant(
            DeviceRequest(client_id=client_id, scope=scope),
            DeviceCodeResponse(**{k: v for k, v in data.items() if k in fields}),
        )
        response = JsonResponse(data, headers=headers)
        response["Cache-Control"] = "no-store"
        return response


@method_decorator(never_cache, name="dispatch")
class DeviceUserCodeView(dot_device.DeviceUserCodeView):
    # Deny by default: every other method (HEAD, PUT, which FormView treats as POST, ...) is a 405.
    http_method_names = ["get", "post"]

    template_name = "mfa_oauth/device/user_code.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The client is not known before the code is typed: the site default policy applies here,
        # and the client's own policy again on the approval page.
        return gate(request, None) or super().dispatch(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class DeviceConfirmView(dot_device.DeviceConfirmView):
    # Deny by default: every other method (HEAD, PUT, which FormView treats as POST, ...) is a 405.
    http_method_names = ["get", "post"]

    template_name = "mfa_oauth/device/accept_deny.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        client_id = kwargs.get("client_id", "")
        application = get_application_model().objects.select_related("mfa_policy").filter(client_id=client_id).first()
        return gate(request, application) or super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        if form.cleaned_data["action"] != "accept":
            return super().form_valid(form)
        if not getattr(self.request, "mfa_oauth_gate_approved", False):
            # Deny by default: an approval is recorded only after the gate's yes in this request.
            raise PermissionDenied("mfa_oauth: device approval without the second-factor gate")
        with transaction.atomic():
            # Frozen in the same transaction as the approval: an approved grant always has its record.
            request = cast(MFAHttpRequest, self.request)
            context = request.mfa_oauth_context
            if context is None:  # the gate never says yes without one; refuse rather than record nothing
                raise PermissionDenied("mfa_oauth: device approval without an authentication context")
            record_approval(self.get_object(), request.user, context)
            return super().form_valid(form)


class DeviceGrantStatusView(dot_device.DeviceGrantStatusView):
    # Deny by default: every other method (HEAD, PUT, which FormView treats as POST, ...) is a 405.
    http_method_names = ["get"]

    template_name = "mfa_oauth/device/device_grant_status.html"
