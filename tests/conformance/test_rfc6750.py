"""RFC 6750 (Bearer Token Usage) §3 at the userinfo endpoint and the sample resource server."""

from __future__ import annotations

import re

import pytest
import requests

from mfa_oauth.resource.challenge import parse_www_authenticate

from .conftest import TIMEOUT, AuthRequest, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def _userinfo(op, **kwargs) -> requests.Response:
    return requests.get(op.config["userinfo_endpoint"], timeout=TIMEOUT, **kwargs)


def test_rfc6750_3_1_no_credentials_no_error_code(op):
    """RFC 6750 §3.1: "If the request lacks any authentication information (e.g., the client was unaware
    that authentication is necessary ...), the resource server SHOULD NOT include an error code or other
    error information"; §3 the 401 carries WWW-Authenticate: Bearer."""
    response = _userinfo(op)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    # RFC 9449 §7.1: a second challenge offers DPoP, also without an error.
    assert challenge.split(",")[0] == "Bearer" and "error=" not in challenge


def test_rfc6750_3_1_invalid_token(op):
    """RFC 6750 §3.1 invalid_token: "The access token provided is expired, revoked, malformed, or invalid
    ... The resource server SHOULD respond with the HTTP 401 (Unauthorized) status code"."""
    response = _userinfo(op, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert parse_www_authenticate(response.headers["WWW-Authenticate"])["error"] == "invalid_token"


def test_rfc6750_3_1_insufficient_scope(op, rp, user_agent):
    """RFC 6750 §3.1 insufficient_scope: "The resource server SHOULD respond with the HTTP 403 (Forbidden)
    status code and MAY include the "scope" attribute with the scope necessary"; a token without openid
    at userinfo (OIDC Core §5.3)."""
    request = AuthRequest(rp, scope="profile")
    params = user_agent.code_response(request.url(op, nonce=None))
    token = token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).json()["access_token"]
    response = _userinfo(op, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    challenge = parse_www_authenticate(response.headers["WWW-Authenticate"])
    assert challenge["error"] == "insufficient_scope" and challenge["scope"] == "openid"


def test_rfc6750_3_challenge_syntax(op):
    """RFC 6750 §3: auth-params as quoted strings, comma-separated, after the "Bearer" scheme."""
    value = _userinfo(op, headers={"Authorization": "Bearer x"}).headers["WWW-Authenticate"]
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer"
    param = r'[a-z_]+="(?:[^"\\]|\\.)*"'
    assert re.fullmatch(rf"{param}(, {param})*", rest), rest


def test_rfc6750_3_resource_server(op, live_server):
    """RFC 6750 §3 at a protected resource (the sample API, mfa_oauth.resource): no token → 401 Bearer
    without error; a bad token → 401 invalid_token."""
    response = requests.get(f"{live_server.url}/api/balance", timeout=TIMEOUT)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].split(",")[0] == "Bearer"
    assert "error=" not in response.headers["WWW-Authenticate"]
    response = requests.get(f"{live_server.url}/api/balance", headers={"Authorization": "Bearer x"}, timeout=TIMEOUT)
    assert response.status_code == 401
    assert parse_www_authenticate(response.headers["WWW-Authenticate"])["error"] == "invalid_token"


def test_rfc6750_2_1_and_2_2_userinfo_accepts_header_and_body(op, tokens):
    """RFC 6750 §2.1 Authorization header and §2.2 form-encoded body parameter."""
    _request, body = tokens
    assert _userinfo(op, headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    posted = requests.post(op.config["userinfo_endpoint"], data={"access_token": body["access_token"]}, timeout=TIMEOUT)
    assert posted.status_code == 200
