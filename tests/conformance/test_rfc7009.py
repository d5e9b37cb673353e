"""RFC 7009 (OAuth 2.0 Token Revocation), over HTTP."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def _revoke(op, data: dict, auth=None) -> requests.Response:
    endpoint = requests.get(f"{op.base}/.well-known/oauth-authorization-server/o", timeout=TIMEOUT).json()[
        "revocation_endpoint"
    ]
    return requests.post(endpoint, data=data, auth=auth, timeout=TIMEOUT)


def _userinfo_status(op, access_token: str) -> int:
    return requests.get(
        op.config["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
    ).status_code


def test_rfc7009_2_1_revoking_an_access_token(op, rp, tokens):
    """RFC 7009 §2.1/§2.2: "The authorization server responds with HTTP status code 200 if the token has
    been revoked successfully"; the token is no longer accepted."""
    _request, body = tokens
    assert _revoke(op, {"token": body["access_token"], "token_type_hint": "access_token"}, rp.auth).status_code == 200
    assert _userinfo_status(op, body["access_token"]) == 401


def test_rfc7009_2_1_revoking_a_refresh_token(op, rp, tokens):
    """RFC 7009 §2.1: "If the token passed to the request is a refresh token and the authorization server
    supports the revocation of access tokens, then the authorization server SHOULD also invalidate all
    access tokens based on the same authorization grant"."""
    _request, body = tokens
    assert _revoke(op, {"token": body["refresh_token"]}, rp.auth).status_code == 200
    refresh = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, rp.auth)
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    assert _userinfo_status(op, body["access_token"]) == 401


def test_rfc7009_2_2_unknown_token_is_200(op, rp):
    """RFC 7009 §2.2: "invalid tokens do not cause an error response since the client cannot handle such
    an error in a reasonable way"."""
    assert _revoke(op, {"token": "never-issued"}, rp.auth).status_code == 200


def test_rfc7009_2_2_another_clients_token_is_not_revoked(op, rp, tokens):
    """RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
    revocation request"; another client's request leaves it valid."""
    from .conftest import Client, _register

    _request, body = tokens
    other = Client("other", f"{op.base}/cb")
    _register("other", other.redirect_uri)
    _revoke(op, {"token": body["access_token"]}, other.auth)
    assert _userinfo_status(op, body["access_token"]) == 200


def test_rfc7009_2_2_1_invalid_client(op, rp, tokens):
    """RFC 7009 §2.2.1: error responses as in RFC 6749 §5.2: invalid_client with Basic → 401 and a
    WWW-Authenticate Basic challenge."""
    _request, body = tokens
    response = _revoke(op, {"token": body["access_token"]}, ("rp", "wrong"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert _userinfo_status(op, body["access_token"]) == 200


def test_rfc7009_2_1_public_client_revokes_with_its_client_id(op, public_rp, user_agent):
    """RFC 7009 §5 / RFC 8414 revocation_endpoint_auth_methods_supported "none": a public client
    identifies itself with client_id."""
    request = AuthRequest(public_rp)
    code = user_agent.code_response(request.url(op))["code"]
    body = token_endpoint(op, request.token_request(code, client_id="spa")).json()
    assert _revoke(op, {"token": body["access_token"], "client_id": "spa"}).status_code == 200
    assert _userinfo_status(op, body["access_token"]) == 401
