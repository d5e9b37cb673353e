"""WebAuthn pages and JSON endpoints: register a credential, use it at the challenge step, and
sign in with a passkey alone. The browser side is mfa_oauth/static/mfa_oauth/webauthn.js."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from .. import pending
from ..adapter import get_adapter
from ..context import get_context
from ..freshness import fresh_mfa_required, needs_fresh_mfa, password_step_required, resumable
from ..http import MFAHttpRequest
from ..redirects import safe_next, see_other
from ..signals import factor_added, factor_removed, second_factor_verified
from ..verify.flows import complete
from . import ceremonies, config
from .ceremonies import CeremonyError
from .models import WebAuthnCredential


def _error(error: CeremonyError) -> JsonResponse:
    return JsonResponse({"error": error.user_message}, status=error.status)


def _level(value: Any) -> int:
    try:
        return max(0, min(int(value), 10))
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON 1e400 parses as infinity
        return 0


def _sign_in_first(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": _("Sign in first.")}, status=401)


# Like fresh_mfa_required/login_required, but answering JSON: the caller is our script.
_json_login_required = password_step_required(refuse=_sign_in_first)


def _stale() -> JsonResponse:
    return JsonResponse({"error": _("Confirm it's you with your second factor first, then try again.")}, status=403)


# --- registration ----------------------------------------------------------------------------


@method_decorator(never_cache, name="dispatch")
@method_decorator(fresh_mfa_required(reason=gettext_lazy("add or remove a security key")), name="dispatch")
class RegisterView(View):
    """The standalone page to add and remove security keys and passkeys (the security page links here)."""

    template_name = "mfa_oauth/webauthn/register.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        host_ok = config.host_matches_rp_id(request.get_host())
        origin_ok = f"{request.scheme}://{request.get_host()}" in config.expected_origins(request)
        return render(
            request,
            self.template_name,
            {
                "credentials": WebAuthnCredential.objects.filter(user=cast(Any, request.user)).order_by(
                    "created_at", "pk"
                ),
                # After adding a key: where the user came from, else this page with the new key listed.
                "next": safe_next(request, request.GET.get("next"), default=reverse("mfa_oauth:webauthn-register")),
                "done": safe_next(request, request.GET.get("next")),
                "usable_here": host_ok and origin_ok,
                "rp_id": config.rp_id(),
                "origins": config.expected_origins(request),
            },
        )


@never_cache
@require_POST
@_json_login_required
def register_options(request: HttpRequest) -> JsonResponse:
    if needs_fresh_mfa(request):
        return _stale()
    return JsonResponse(ceremonies.registration_options(request))


@never_cache
@require_POST
@_json_login_required
def register_verify(request: HttpRequest) -> JsonResponse:
    if needs_fresh_mfa(request):
        return _stale()
    try:
        payload = ceremonies.read_payload(request)
        device = ceremonies.finish_registration(request, payload)
    except CeremonyError as error:
        return _error(error)
    factor_added.send(sender=WebAuthnCredential, request=request, user=request.user, device=device, method="webauthn")
    messages.success(request, _("Security key or passkey added. It works for signing in from now on."))
    # Unlike a confirmed TOTP code, a registration does not count as this session's second factor:
    # with "none" attestation nothing is signed (not even the UV flag), so it proves neither the
    # private key nor user verification. The first assertion does; the gate asks for it.
    next_url = safe_next(
        request,
        payload.get("next") if isinstance(payload.get("next"), str) else None,
        default=reverse("mfa_oauth:webauthn-register"),
    )
    return JsonResponse({"ok": True, "id": device.pk, "name": device.name, "redirect": next_url}, status=201)


@never_cache
@resumable  # a removal interrupted by a step-up comes back as a GET (freshness.resume)
@require_POST
@fresh_mfa_required(reason=gettext_lazy("remove this security key"))
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(WebAuthnCredential, pk=pk, user=request.user)
    device.delete()
    factor_removed.send(sender=WebAuthnCredential, request=request, user=request.user, device=device, method="webauthn")
    return see_other(reverse("mfa_oauth:webauthn-register"))


# --- second factor at the challenge step -----------------------------------------------------


@never_cache
@require_POST
@_json_login_required
def authenticate_options(request: HttpRequest) -> JsonResponse:
    try:
        payload = ceremonies.read_payload(request)
        if pending.expired(get_context(request)):
            # No challenge for a password-only session past its limit (docs/security.md).
            return pending.restart_json(request, _next(request, payload))
        requested = payload.get("device")
        device_id = requested if isinstance(requested, str) else ""
        return JsonResponse(ceremonies.authentication_options(request, _level(payload.get("level")), device_id))
    except CeremonyError as error:
        return _error(error)


@never_cache
@require_POST
@_json_login_required
def authenticate_verify(request: HttpRequest) -> JsonResponse:
    try:
        payload = ceremonies.read_payload(request)
        if pending.expired(get_context(request)):
            # Before the assertion is checked: its challenge and the key's counter stay unspent.
            return pending.restart_json(request, _next(request, payload))
        verified = ceremonies.finish_authentication(request, payload)
    except CeremonyError as error:
        return _error(error)
    try:
        complete(request, verified.device, verified.factor)
    except pending.PendingSessionExpired:  # the limit passed while the assertion was checked
        return pending.restart_json(request, _next(request, payload))
    return JsonResponse({"ok": True, "redirect": _next(request, payload)})


def _next(request: HttpRequest, payload: dict) -> str:
    return safe_next(request, payload.get("next") if isinstance(payload.get("next"), str) else None)


# --- passkey sign-in (no password) -----------------------------------------------------------


@never_cache
@require_POST
def passkey_options(request: HttpRequest) -> JsonResponse:
    return JsonResponse(ceremonies.passkey_options(request))


@never_cache
@require_POST
def passkey_verify(request: MFAHttpRequest) -> JsonResponse:
    try:
        payload = ceremonies.read_payload(request)
        verified = ceremonies.finish_passkey(request, payload)
    except CeremonyError as error:
        return _error(error)
    device, user = verified.device, verified.device.user
    # mfa_oauth.receivers starts the session's context with this factor instead of a password:
    # possession + user verification is multi-factor on its own.
    request.mfa_oauth_login_factor = verified.factor
    login(request, user, backend=get_adapter().get_login_backend(request, user))
    otp_login(request, device)
    second_factor_verified.send(
        sender=WebAuthnCredential,
        request=request,
        user=user,
        device=device,
        method="webauthn",
        context=get_context(request),
    )
    next_url = safe_next(request, payload.get("next") if isinstance(payload.get("next"), str) else None)
    return JsonResponse({"ok": True, "redirect": next_url})
