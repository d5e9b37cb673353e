"""Add an authenticator app: QR code and secret shown once, confirmed by one valid code."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from .. import pending
from ..adapter import get_form_class
from ..context import get_context
from ..freshness import needs_fresh_mfa, password_step_required, resume, step_up_redirect
from ..redirects import safe_next, see_other
from ..signals import factor_added
from ..verify.flows import complete, normalize_token, retry_after, throttle_message
from . import flows


@method_decorator(never_cache, name="dispatch")
@method_decorator(password_step_required, name="dispatch")
class EnrollTOTPView(View):
    template_name = "mfa_oauth/enroll_totp.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
        if needs_fresh_mfa(request):
            return step_up_redirect(request, reason=_("add an authenticator app"), keep_post=True)
        resume(request)
        if pending.expired(get_context(request)):
            # The confirmed device would become this password-only session's second factor: past
            # the half-authenticated state's limit the password comes first (docs/security.md).
            return self.restart()
        return super().dispatch(request, *args, **kwargs)

    def restart(self) -> HttpResponse:
        flows.discard_pending(self.request)  # no unconfirmed device left behind
        return pending.restart(self.request, self.next_url)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(flows.start(request))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        device = flows.pending(request)
        if device is None:
            return self.render(
                flows.start(request), error=_("That setup page expired. Scan this new code."), status=400
            )
        allowed, info = device.verify_is_allowed()
        if not allowed:
            # django-otp's throttle after a wrong code: say so, not "check the time" (the code is not checked).
            response = self.render(device, error=throttle_message(retry_after(info)), status=429)
            response["Retry-After"] = str(retry_after(info) or 1)
            return response
        token = normalize_token(device, request.POST.get("token", ""))
        if token is None or not flows.confirm(request, device, token):
            # The same secret stays on screen for a typo; a reload (GET) replaces it.
            return self.render(
                device,
                error=_("That code did not work. Check the time on your phone and try again with the newest code."),
                status=200,
            )
        context = get_context(request)
        had_context_mfa = bool(context and context.second_factors)
        factor_added.send(sender=type(device), request=request, user=request.user, device=device, method="totp")
        if not had_context_mfa:
            # Proving the new device is this session's second factor.
            try:
                complete(request, device)
            except pending.PendingSessionExpired:  # the limit passed during this request
                return pending.restart(request, self.next_url)
        messages.success(request, _("Authenticator app added. It works for signing in from now on."))
        return see_other(self.next_url)

    def render(self, device: Any, *, error: str = "", status: int = 200) -> HttpResponse:
        uri = flows.otpauth_uri(device)
        response = render(
            self.request,
            self.template_name,
            {
                "secret": flows.base32_secret(device),
                "otpauth_uri": uri,
                "qr_svg": flows.qr_svg(uri),
                "next": self.next_url,
                "error": error,
                # The code field comes from the form class (MFA_OAUTH["FORMS"]["totp_confirm"]).
                "form": get_form_class("totp_confirm")(),
            },
            status=status,
        )
        response["Cache-Control"] = "no-store"
        return response
