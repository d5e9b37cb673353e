"""RFC 6749 (The OAuth 2.0 Authorization Framework): the MUSTs of the code grant, over HTTP."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, Client, _register, hidden_fields, query, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def _code(op, user_agent, request: AuthRequest, **overrides) -> str:
    return user_agent.code_response(request.url(op, **overrides))["code"]


def test_rfc6749_4_1_2_1_unknown_client_is_not_redirected(op, rp):
    """RFC 6749 §4.1.2.1: "If the request fails due to a missing, invalid, or mismatching redirection URI,
    or if the client identifier is missing or invalid, the authorization server ... MUST NOT automatically
    redirect the user-agent to the invalid redirection URI"."""
    for overrides in ({"client_id": "nobody"}, {"client_id": None}):
        response = requests.get(AuthRequest(rp).url(op, **overrides), allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 400 and "Location" not in response.headers, overrides


def test_rfc6749_4_1_2_1_invalid_scope_is_redirected_with_state(op, rp, user_agent):
    """RFC 6749 §4.1.2.1 invalid_scope, redirected with the client's state (and iss, RFC 9207 §2)."""
    request = AuthRequest(rp, scope="openid no-such-scope")
    response = requests.get(request.url(op), allow_redirects=False, timeout=TIMEOUT)
    params = query(response.headers["Location"])
    assert params["error"] == "invalid_scope" and params["state"] == request.state and params["iss"] == op.issuer


def test_rfc6749_4_1_2_1_access_denied(op, rp, user_agent):
    """RFC 6749 §4.1.2.1 access_denied: "The resource owner or authorization server denied the request"
    (the consent page's Cancel), with state and iss."""
    request = AuthRequest(rp)
    response = user_agent.authorize(request.url(op), approve=False)
    params = query(response.headers["Location"])
    assert params["error"] == "access_denied" and params["state"] == request.state and params["iss"] == op.issuer


def test_rfc6749_4_1_2_1_unsupported_response_type(op, rp):
    """RFC 6749 §4.1.2.1 unsupported_response_type for token (implicit) and unknown values, redirected with
    state and iss; no token in the fragment (RFC 9700 §2.1.2)."""
    for response_type in ("token", "id_token", "code id_token", "none", "bogus"):
        request = AuthRequest(rp)
        response = requests.get(request.url(op, response_type=response_type), allow_redirects=False, timeout=TIMEOUT)
        location = response.headers["Location"]
        params = query(location)
        assert params["error"] == "unsupported_response_type", response_type
        assert params["state"] == request.state and params["iss"] == op.issuer
        assert "access_token" not in location and "id_token=" not in location


def test_rfc6749_4_1_3_redirect_uri_must_be_repeated(op, rp, user_agent):
    """RFC 6749 §4.1.3 redirect_uri "REQUIRED, if the "redirect_uri" parameter was included in the
    authorization request"; missing is invalid_request (§5.2), and the code is not spent."""
    request = AuthRequest(rp)
    code = _code(op, user_agent, request)
    response = token_endpoint(op, request.token_request(code, redirect_uri=None), auth=rp.auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert token_endpoint(op, request.token_request(code), auth=rp.auth).status_code == 200


def test_rfc6749_4_1_3_redirect_uri_mismatch_is_invalid_grant(op, rp, user_agent):
    """RFC 6749 §5.2 invalid_grant: the grant "does not match the redirection URI used in the
    authorization request" (another registered URI of the same client included)."""
    request = AuthRequest(rp)
    code = _code(op, user_agent, request)
    for other in (f"{op.base}/cb2?tenant=a", "https://attacker.example/cb"):
        response = token_endpoint(op, request.token_request(code, redirect_uri=other), auth=rp.auth)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", other


def test_rfc6749_4_1_3_code_is_bound_to_its_client(op, rp, user_agent):
    """RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated confidential
    client"; another client's code is invalid_grant."""
    other = Client("other", f"{op.base}/cb")
    _register("other", other.redirect_uri)
    request = AuthRequest(rp)
    code = _code(op, user_agent, request)
    response = token_endpoint(op, request.token_request(code), auth=other.auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_rfc6749_5_1_token_response(op, tokens):
    """RFC 6749 §5.1: access_token, token_type, expires_in; "Cache-Control: no-store"."""
    _request, body = tokens
    assert body["access_token"] and body["token_type"] == "Bearer" and body["expires_in"] > 0


def test_rfc6749_5_2_invalid_client_with_basic_is_401_basic(op, rp, user_agent):
    """RFC 6749 §5.2 invalid_client: "If the client attempted to authenticate via the "Authorization"
    request header field, the authorization server MUST respond with an HTTP 401 (Unauthorized) status
    code and include the "WWW-Authenticate" response header field matching the authentication scheme
    used by the client"."""
    request = AuthRequest(rp)
    code = _code(op, user_agent, request)
    response = token_endpoint(op, request.token_request(code), auth=("rp", "wrong-secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert 'realm="' in response.headers["WWW-Authenticate"]


def test_rfc6749_5_2_invalid_client_in_the_body(op, rp, user_agent):
    """RFC 6749 §5.2 invalid_client with client_secret_post: 400 or 401 ("MAY return an HTTP 401 ... to
    indicate which HTTP authentication schemes are supported"); a 401 names a scheme (RFC 9110 §15.5.2)."""
    request = AuthRequest(rp)
    code = _code(op, user_agent, request)
    response = token_endpoint(op, request.token_request(code, client_id="rp", client_secret="wrong"))
    assert response.json()["error"] == "invalid_client"
    assert response.status_code in (400, 401)
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_rfc6749_5_2_unsupported_grant_type(op, rp):
    """RFC 6749 §5.2 unsupported_grant_type; a missing grant_type is invalid_request."""
    response = token_endpoint(op, {"grant_type": "urn:example:nothing"}, auth=rp.auth)
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"
    response = token_endpoint(op, {}, auth=rp.auth)
    assert response.status_code == 400 and response.json()["error"] in ("invalid_request", "unsupported_grant_type")


def test_rfc6749_3_2_token_endpoint_is_post_only(op):
    """RFC 6749 §3.2: "The client MUST use the HTTP "POST" method when making access token requests"."""
    response = requests.get(op.config["token_endpoint"], params={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert response.status_code in (400, 405) and "access_token" not in response.text


def test_rfc6749_6_refresh_cannot_widen_scope(op, rp, tokens):
    """RFC 6749 §6: the requested scope "MUST NOT include any scope not originally granted" (invalid_scope)."""
    _request, body = tokens
    data = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "scope": "openid transfer"}
    response = token_endpoint(op, data, auth=rp.auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_rfc6749_10_12_consent_form_is_csrf_protected(op, rp, user_agent):
    """RFC 6749 §10.12: the consent decision is bound to the user-agent's session (CSRF token)."""
    user_agent.code_response(AuthRequest(rp).url(op))
    request = AuthRequest(rp, scope="openid email")
    page = user_agent.session.get(request.url(op), timeout=TIMEOUT)
    assert 'id="authorizationForm"' in page.text
    assert hidden_fields(page.text)["csrfmiddlewaretoken"]
