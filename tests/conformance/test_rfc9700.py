"""RFC 9700 (Best Current Practice for OAuth 2.0 Security), the MUSTs an authorization server controls."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, query, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_rfc9700_2_1_exact_redirect_uri_matching(op, rp):
    """RFC 9700 §2.1: "authorization servers MUST utilize exact string matching" of redirect URIs (only
    the loopback port is exempt, RFC 8252 §7.3); no redirect to an unmatched one (§4.11.2)."""
    for uri in (
        f"{op.base}/CB",
        f"{op.base}/cb/",
        f"{op.base}/cb?x",
        op.base.replace("localhost", "LOCALHOST") + "/cb",
    ):
        response = requests.get(AuthRequest(rp).url(op, redirect_uri=uri), allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 400 and "Location" not in response.headers, uri


def test_rfc9700_2_1_1_pkce_s256_required(op):
    """RFC 9700 §2.1.1: PKCE; "S256" advertised, "plain" not (it is refused, see test_rfc7636)."""
    assert op.config["code_challenge_methods_supported"] == ["S256"]


def test_rfc9700_2_1_2_no_implicit_grant(op, rp):
    """RFC 9700 §2.1.2: "Clients SHOULD NOT use the implicit grant"; the server does not offer it: no
    token in the front channel, not in discovery."""
    assert op.config["response_types_supported"] == ["code"]
    request = AuthRequest(rp)
    response = requests.get(request.url(op, response_type="token"), allow_redirects=False, timeout=TIMEOUT)
    assert "access_token" not in response.headers["Location"]


def test_rfc9700_2_4_no_password_grant(op, rp):
    """RFC 9700 §2.4: "The resource owner password credentials grant MUST NOT be used"."""
    response = token_endpoint(op, {"grant_type": "password", "username": "alice", "password": "x"}, auth=rp.auth)
    assert response.status_code == 400 and "access_token" not in response.text
    assert "password" not in op.config["grant_types_supported"]


def test_rfc9700_4_5_3_1_code_replay_revokes_the_tokens(op, rp, user_agent):
    """RFC 9700 §4.5.3.1 / RFC 6749 §4.1.2: a replayed code is refused and the tokens it produced, and
    their refreshes, are revoked."""
    request = AuthRequest(rp)
    code = user_agent.code_response(request.url(op))["code"]
    first = token_endpoint(op, request.token_request(code), auth=rp.auth).json()
    refreshed = token_endpoint(
        op, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, auth=rp.auth
    ).json()
    assert token_endpoint(op, request.token_request(code), auth=rp.auth).json()["error"] == "invalid_grant"
    for token in (first["access_token"], refreshed["access_token"]):
        status = requests.get(
            op.config["userinfo_endpoint"], headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
        ).status_code
        assert status == 401
    again = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]}, rp.auth)
    assert again.status_code == 400


def test_rfc9700_4_14_2_refresh_token_rotation_and_reuse_detection(op, rp, tokens):
    """RFC 9700 §4.14.2: refresh tokens are sender-constrained or rotated; a reused (rotated-out) refresh
    token is refused and the active one of its family revoked."""
    _request, body = tokens
    fresh = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, rp.auth)
    assert fresh.status_code == 200
    new = fresh.json()
    reuse = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, rp.auth)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    after = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]}, rp.auth)
    assert after.status_code == 400


def test_rfc9700_4_2_4_no_referrer_leak_and_no_framing(op, rp):
    """RFC 9700 §4.2.4 (Referrer-Policy) and §4.16 (clickjacking): the provider's pages."""
    response = requests.get(AuthRequest(rp).url(op), timeout=TIMEOUT)
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_rfc9700_4_11_2_no_open_redirect_for_unknown_clients(op):
    """RFC 9700 §4.11.2: the authorization endpoint never redirects to an unverified URI (unknown client)."""
    response = requests.get(
        f"{op.config['authorization_endpoint']}?client_id=nobody&response_type=code&redirect_uri="
        "https%3A%2F%2Fattacker.example%2F&scope=openid",
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert query(response.url).get("client_id") == "nobody"
