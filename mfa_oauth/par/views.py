"""The PAR endpoint (RFC 9126 §2): ``POST /o/par/``.

The client authenticates as at the token endpoint (DOT's validator: secret, or ``private_key_jwt``
through :mod:`mfa_oauth.client_auth`), and the request is validated the way the authorization
endpoint validates it (§2.1: oauthlib's own checks of client, redirect URI, response type, scope and
PKCE, plus this provider's ``max_age``/``claims`` checks). The request comes as form fields or as one
signed request object (§3, :mod:`mfa_oauth.par.request_object`). Nothing about the user happens here.
Answers: 201 with ``request_uri`` and ``expires_in`` (§2.2), or the §2.3 errors as JSON.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OauthlibRequest
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from .. import dpop, rar
from ..fapi import profile
from ..oauth import gate
from ..policy import AuthRequest, Decision, Outcome
from . import CREDENTIAL_PARAMETERS, REQUEST_URI_PREFIX, lifetime, request_object


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="oauth"'
    return response


# A client endpoint: no CSRF token (no cookie is read), never behind LoginRequiredMiddleware.
@method_decorator([csrf_exempt, login_not_required], name="dispatch")
class PushedAuthorizationView(OAuthLibMixin, View):
    # RFC 9126 §2: POST only; every other method is refused before anything is read.
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        from ..fapi.models import PushedAuthorization

        if request.content_type != "application/x-www-form-urlencoded":
            return _error("invalid_request", "The body must be application/x-www-form-urlencoded (RFC 9126 §2.1)")
        if any(len(request.POST.getlist(name)) > 1 for name in request.POST):
            return _error("invalid_request", "A parameter is repeated (RFC 6749 §3.1)")
        core = self.get_oauthlib_core()
        uri, http_method, body, headers = core._extract_params(request)
        oauthlib_request = OauthlibRequest(uri, http_method, body, headers)
        validator = core.server.request_validator
        client_id = request.POST.get("client_id")
        if validator.client_authentication_required(oauthlib_request):
            authenticated = validator.authenticate_client(oauthlib_request)
        else:
            authenticated = bool(client_id) and validator.authenticate_client_id(client_id, oauthlib_request)
        client = getattr(oauthlib_request, "client", None)
        if not authenticated or client is None:
            return _error("invalid_client", "Client authentication failed", status=401)
        if client_id and client_id != client.client_id:
            return _error("invalid_request", "client_id differs from the authenticated client")

        parameters = {k: str(v) for k, v in request.POST.items() if k not in CREDENTIAL_PARAMETERS}
        if "request_uri" in parameters:
            return _error("invalid_request", "request_uri must not be pushed (RFC 9126 §2.1)")
        if "request" in parameters:
            # RFC 9126 §3: a signed request object; its claims are the whole request (RFC 9101 §6.3).
            try:
                parameters = request_object.parameters(parameters["request"], client, request)
            except request_object.InvalidRequestObject as refused:
                return _error("invalid_request_object", str(refused))
        parameters["client_id"] = client.client_id
        auth_request = AuthRequest.from_params(parameters)
        if auth_request.errors:
            return _error("invalid_request", "; ".join(auth_request.errors))
        if parameters.get("code_challenge_method") == "plain":
            return _error("invalid_request", 'Use the "S256" code_challenge_method (RFC 9700 §2.1.1)')
        # RFC 9449 §10.1: a proof at the PAR endpoint binds the code to its key, as dpop_jkt does.
        try:
            jkt = dpop.proof_of_request(request)
        except dpop.DPoPError as error:
            return dpop.error_response(error)
        given = parameters.get("dpop_jkt")
        if given is not None and not dpop.valid_jkt(given):
            return _error("invalid_request", "dpop_jkt is not a JWK SHA-256 thumbprint (RFC 9449 §10)")
        if jkt and given and given != jkt:
            return _error("invalid_dpop_proof", "dpop_jkt names another key than the DPoP proof (RFC 9449 §10.1)")
        if jkt:
            parameters["dpop_jkt"] = jkt
        if profile.applies_to(client):
            refusal = profile.authorization_request_errors(parameters)
            if refusal:
                return _error("invalid_request", refusal)
        if "authorization_details" in parameters:  # RFC 9396 §5
            try:
                details = rar.parse(parameters["authorization_details"], client)
            except rar.InvalidAuthorizationDetails as refusal:
                return _error(refusal.error, refusal.description)
            parameters["authorization_details"] = json.dumps(details)
        invalid = self._validation_error(core, client, parameters)
        if invalid is not None:
            return invalid

        reference = secrets.token_urlsafe(32)
        seconds = lifetime()
        PushedAuthorization.objects.create(
            reference=reference,
            application=client,
            parameters=parameters,
            expires=timezone.now() + timedelta(seconds=seconds),
        )
        response = JsonResponse({"request_uri": REQUEST_URI_PREFIX + reference, "expires_in": seconds}, status=201)
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _validation_error(core, client, parameters: dict) -> JsonResponse | None:
        """oauthlib's authorization-request validation (what /o/authorize/ runs), answered as JSON."""
        authorize_uri = f"{reverse('oauth2_provider:authorize')}?{urlencode(parameters)}"
        # Validation only: nothing can be issued under this state (issuing=False, see gate.py).
        provisional = gate.GateState(Decision(Outcome.SATISFIED), consent_given=True, application=client)
        try:
            with gate.published(provisional):
                core.server.validate_authorization_request(authorize_uri, "GET", "", {})
        except oauth_errors.OAuth2Error as error:  # FatalClientError included
            return _error(error.error, error.description or "The authorization request is invalid")
        return None
