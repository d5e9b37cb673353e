"""The token endpoint: DOT's TokenView with RFC 8628 error answers where DOT 3.4.1 has none.

DOT reads ``request.POST["device_code"]`` unguarded (a missing parameter is a 500) and answers an
unknown device code with a non-standard 404; RFC 8628 §3.5 / RFC 6749 §5.2 want
``invalid_request`` / ``invalid_grant`` with status 400.
"""

from __future__ import annotations

from django.http import JsonResponse
from oauth2_provider.models import get_device_grant_model
from oauth2_provider.views import TokenView

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _error(error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=400)
    response["Cache-Control"] = "no-store"
    return response


class MFATokenView(TokenView):
    def post(self, request, *args, **kwargs):
        if request.POST.get("grant_type") == DEVICE_CODE_GRANT:
            device_code = request.POST.get("device_code", "")
            if not device_code:
                return _error("invalid_request", "Missing device_code parameter.")
            if len(device_code) > 100 or not get_device_grant_model().objects.filter(device_code=device_code).exists():
                return _error("invalid_grant", "Unknown device_code.")
        return super().post(request, *args, **kwargs)
