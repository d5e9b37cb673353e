"""``WWW-Authenticate`` exactly as the specs say, where DOT/oauthlib answer otherwise.

- RFC 6749 §5.2 (token endpoint; RFC 7009 §2.2.1 revocation and RFC 7662 §2.3 introspection refer to
  it): ``invalid_client`` — "If the client attempted to authenticate via the "Authorization" request
  header field, the authorization server MUST respond with an HTTP 401 (Unauthorized) status code and
  include the "WWW-Authenticate" response header field matching the authentication scheme used by the
  client." oauthlib answers 401 with a ``Bearer`` challenge, a scheme no client authenticates with
  here; the answer is 401 with ``Basic`` (which also tells a client that posted its secret in the body
  which scheme is supported, as §5.2 allows).
- RFC 6750 §3 / §3.1 (userinfo, OIDC Core §5.3.3): no credentials → ``Bearer`` without an error code;
  a bad token → 401 ``invalid_token``; a token without ``openid`` → 403 ``insufficient_scope`` with
  the scope needed; a malformed request → 400 ``invalid_request``.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import parse_bearer_token
from oauth2_provider.views import RevokeTokenView, UserInfoView

from ..dpop.resource import offer_dpop
from ..resource.challenge import bearer_challenge

REALM = "mfa_oauth"


def basic_challenge() -> str:
    # RFC 7617 §2: realm is required in a Basic challenge.
    return f'Basic realm="{REALM}", charset="UTF-8"'


def _error_of(response: HttpResponse) -> tuple[str, str]:
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("error", "")), str(data.get("error_description", ""))


def with_client_challenge(response: HttpResponse) -> HttpResponse:
    """RFC 6749 §5.2: ``invalid_client`` is a 401 with a ``Basic`` challenge."""
    error, _description = _error_of(response)
    if error == "invalid_client":
        response.status_code = 401
        response["WWW-Authenticate"] = basic_challenge()
    return response


def invalid_client() -> JsonResponse:
    response = JsonResponse(
        {"error": "invalid_client", "error_description": "Client authentication failed"}, status=401
    )
    response["WWW-Authenticate"] = basic_challenge()
    response["Cache-Control"] = "no-store"
    return response


class MFARevokeTokenView(RevokeTokenView):
    """RFC 7009 §2.2.1: an invalid client at the revocation endpoint is answered per RFC 6749 §5.2."""

    def post(self, request, *args, **kwargs):
        return with_client_challenge(super().post(request, *args, **kwargs))


def _carries_credentials(request: HttpRequest) -> bool:
    return bool(
        request.META.get("HTTP_AUTHORIZATION") or "access_token" in request.POST or "access_token" in request.GET
    )


def _valid_without_openid(request: HttpRequest) -> bool:
    """A live access token that lacks the ``openid`` scope: oauthlib's userinfo endpoint validates
    the token with that scope and calls it invalid_token; RFC 6750 §3.1 calls it insufficient_scope."""
    value = parse_bearer_token(request.META.get("HTTP_AUTHORIZATION", "")) or request.POST.get("access_token")
    if not value or len(value) > 512:
        return False
    token = oauth2_settings.OAUTH2_VALIDATOR_CLASS()._load_access_token(value)  # DOT's own lookup
    return token is not None and token.is_valid() and not token.allow_scopes(["openid"])


class MFAUserInfoView(UserInfoView):
    """OIDC Core §5.3.3 / RFC 6750 §3: the userinfo endpoint's errors as a protected resource's."""

    # OIDC Core §5.3: GET and POST; anything else refused (deny by default).
    http_method_names = ["get", "post", "options"]

    def _create_userinfo_response(self, request):
        if "access_token" in request.GET and oauth2_settings.COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT:
            # RFC 6750 §2.3 / RFC 9700 §4.3.2: no access token in the URI where DOT's own gate forbids it for
            # protected resources (oauthlib's userinfo endpoint would read it from the query).
            description = "Send the access token in the Authorization header"
            response = JsonResponse({"error": "invalid_request", "error_description": description}, status=400)
            response["WWW-Authenticate"] = bearer_challenge("invalid_request", description)
            response["Cache-Control"] = "no-store"
            return response
        response = super()._create_userinfo_response(request)
        if response.status_code < 400:
            return response
        error, description = _error_of(response)
        if response.status_code == 401 and not _carries_credentials(request):
            # RFC 6750 §3.1: "If the request lacks any authentication information ..., the resource
            # server SHOULD NOT include an error code or other error information."
            # RFC 9449 §7.1: userinfo also takes DPoP-bound tokens (mfa_oauth.dpop.views): both schemes.
            response["WWW-Authenticate"] = offer_dpop(bearer_challenge())
        elif response.status_code == 403 or error == "insufficient_scope" or _valid_without_openid(request):
            response.status_code = 403
            response["WWW-Authenticate"] = bearer_challenge("insufficient_scope", description, scope="openid")
        elif response.status_code == 400:
            response["WWW-Authenticate"] = bearer_challenge(error or "invalid_request", description)
        else:
            response.status_code = 401
            response["WWW-Authenticate"] = bearer_challenge("invalid_token", description)
        response["Cache-Control"] = "no-store"
        return response
