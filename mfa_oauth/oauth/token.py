"""The token endpoint: DOT's TokenView with RFC 8628 error answers where DOT 3.4.1 has none.

DOT reads ``request.POST["device_code"]`` unguarded (a missing parameter is a 500) and answers an
unknown device code with a non-standard 404, and it keeps answering ``authorization_pending``
after the code expired; RFC 8628 §3.5 / RFC 6749 §5.2 want
``invalid_request`` / ``invalid_grant`` with status 400.
"""

from __future__ import annotations

import hashlib
import json

from django.apps import apps
from django.http import HttpResponse, JsonResponse
from oauth2_provider.models import get_access_token_model, get_device_grant_model
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import TokenView

from .. import dpop
from ..fapi import profile as fapi_profile
from .challenges import with_client_challenge
from .validators import ISSUED_ACCESS_TOKENS

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _error(error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=400)
    response["Cache-Control"] = "no-store"
    return response


class MFATokenView(TokenView):
    def post(self, request, *args, **kwargs):
        # RFC 9449 §5 (mfa_oauth.dpop): a DPoP proof is verified before anything else; the tokens
        # are then bound to its key and their token_type is "DPoP".
        try:
            jkt = dpop.proof_of_request(request)
            if jkt is None and fapi_profile.needs_dpop(request):
                # FAPI 2.0 §5.3.2.1 points 4 and 5: sender-constrained tokens only (here: DPoP).
                raise dpop.DPoPError("A DPoP proof is required for this client (FAPI 2.0)")
        except dpop.DPoPError as error:
            return dpop.error_response(error)
        with dpop.binding(jkt):
            response = self._post(request, *args, **kwargs)
            bound = dpop.was_bound()
        return dpop.token_response(response, bound)

    def _post(self, request, *args, **kwargs):
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

    def authorization_flow_token_response(self, request, *args, **kwargs) -> HttpResponse:
        # DOT's, but app_authorized gets the access token this request created (the validator lists
        # it) instead of one more SELECT by its checksum; a token DOT re-used rather than created
        # (the refresh grace period) is still read back as DOT does.
        issued: list = []
        scope = ISSUED_ACCESS_TOKENS.set(issued)
        try:
            url, headers, body, status = self.create_token_response(request)
        finally:
            ISSUED_ACCESS_TOKENS.reset(scope)
        if status == 200:
            access_token = json.loads(body).get("access_token")
            if access_token is not None:
                checksum = hashlib.sha256(access_token.encode("utf-8")).hexdigest()
                token = next((t for t in issued if t.token_checksum == checksum), None)
                if token is None:
                    token = get_access_token_model().objects.get(token_checksum=checksum)
                app_authorized.send(sender=self, request=request, token=token)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response
