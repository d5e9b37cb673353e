"""The token endpoint: DOT's TokenView with RFC 8628 error answers where DOT 3.4.1 has none.

DOT reads ``request.POST["device_code"]`` unguarded (a missing parameter is a 500) and answers an
unknown device code with a non-standard 404, and it keeps answering ``authorization_pending``
after the code expired; RFC 8628 §3.5 / RFC 6749 §5.2 want
``invalid_request`` / ``invalid_grant`` with status 400.
"""

from __future__ import annotations

from django.apps import apps
from django.http import JsonResponse
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.views import TokenView

from .challenges import with_client_challenge

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _error(error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=400)
    response["Cache-Control"] = "no-store"
    return response


class MFATokenView(TokenView):
    def post(self, request, *args, **kwargs):
        if request.POST.get("grant_type") == DEVICE_CODE_GRANT and not apps.is_installed("mfa_oauth.device"):
            # The server has no device grant without mfa_oauth.device (mfa_oauth.oauth.server); DOT's TokenView
            # would still look the code up itself and answer a non-standard 404 (RFC 6749 §5.2).
            return _error("unsupported_grant_type", "The device authorization grant is not enabled.")
        if request.POST.get("grant_type") == DEVICE_CODE_GRANT:
            device_code = request.POST.get("device_code", "")
            if not device_code:
                return _error("invalid_request", "Missing device_code parameter.")
            grant = None
            if len(device_code) <= 100:
                grant = get_device_grant_model().objects.filter(device_code=device_code).first()
            if grant is None:
                return _error("invalid_grant", "Unknown device_code.")
            # DOT only reads the stored status; is_expired() moves a lapsed grant to "expired" so the
            # device hears expired_token instead of authorization_pending forever (RFC 8628 §3.5).
            grant.is_expired()
        # RFC 6749 §5.2: invalid_client is a 401 with the Basic challenge (mfa_oauth.oauth.challenges).
        return with_client_challenge(super().post(request, *args, **kwargs))
