"""RFC 7662 (OAuth 2.0 Token Introspection), over HTTP."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)


def _introspect(op, data: dict, auth=None) -> requests.Response:
    endpoint = requests.get(f"{op.base}/.well-known/oauth-authorization-server/o", timeout=TIMEOUT).json()[
        "introspection_endpoint"
    ]
    return requests.post(endpoint, data=data, auth=auth, timeout=TIMEOUT)


def test_rfc7662_2_2_active_token(op, rp, tokens):
    """RFC 7662 §2.2: "active" REQUIRED; scope, client_id, exp for an active token (and acr/amr/auth_time,
    RFC 9470 §6.2)."""
    _request, body = tokens
    answer = _introspect(op, {"token": body["access_token"]}, rp.auth).json()
    assert answer["active"] is True and answer["client_id"] == "rp" and answer["exp"] > 0
    assert set(answer["scope"].split()) == set(body["scope"].split())
    assert answer["acr"] and answer["amr"]


def test_rfc7662_2_2_unknown_token_is_inactive(op, rp):
    """RFC 7662 §2.2: "If the introspection call is properly authorized but the token is not active, does
    not exist on this server, or the protected resource is not allowed to introspect this particular token,
    then the authorization server MUST return an introspection response with the "active" field set to
    "false"" (and nothing else)."""
    assert _introspect(op, {"token": "never-issued"}, rp.auth).json() == {"active": False}


def test_rfc7662_2_3_invalid_credentials_are_401(op, rp, tokens):
    """RFC 7662 §2.3: "If the protected resource uses OAuth 2.0 client credentials to authenticate to the
    introspection endpoint and its credentials are invalid, the authorization server responds with an
    HTTP 401 (Unauthorized) as described in Section 5.2 of OAuth 2.0"."""
    _request, body = tokens
    for auth in (("rp", "wrong"), None):
        response = _introspect(op, {"token": body["access_token"]}, auth)
        assert response.status_code == 401, auth
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
        assert "active" not in response.text


def test_rfc7662_4_another_clients_token_is_inactive(op, rp, tokens):
    """RFC 7662 §4: the server decides which protected resources may learn about a token; for the others
    it is as if inactive."""
    from .conftest import _register

    _request, body = tokens
    _register("other", f"{op.base}/cb")
    assert _introspect(op, {"token": body["access_token"]}, ("other", rp.secret)).json() == {"active": False}


def test_rfc7662_2_1_missing_token_is_invalid_request(op, rp):
    """RFC 7662 §2.1: token is REQUIRED."""
    response = _introspect(op, {}, rp.auth)
    assert response.status_code == 400
