"""Redirect URIs, PKCE, grant types, refresh rotation, headers, iss (RFC 9700 §2.1 and §4;
docs/security.md, "Deny by default")."""

from __future__ import annotations

import pytest

from tests.conftest import CLIENT_SECRET, REDIRECT_URI
from tests.oauth import AuthorizationRequest, callback_params, full_authorization, login, pass_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified_client(client, application, totp_device):
    login(client)
    pass_totp(client, totp_device)
    return client


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT_URI + "/",
        REDIRECT_URI + "?x=1",
        "https://RP.example/cb",
        "https://rp.example/CB",
        "https://rp.example.evil/cb",
        "https://evil.example/cb",
    ],
)
def test_redirect_uri_mismatch_shows_an_error_and_never_redirects(verified_client, redirect_uri):
    response = verified_client.get(AuthorizationRequest(redirect_uri=redirect_uri).url())
    assert response.status_code == 400
    assert "Location" not in response
    assert "invalid_request" in response.content.decode() or "Mismatching" in response.content.decode()


@pytest.mark.parametrize("client_id", ["unknown", "", "x" * 500, "rp'--", "ｒｐ"])
def test_unknown_client_is_an_error_page(client, application, client_id):
    response = client.get(AuthorizationRequest(client_id=client_id).url())
    assert response.status_code in (400, 401)
    assert "Location" not in response


def test_unknown_client_is_refused_before_login(client, application):
    # Not even sent to the login page: the request itself is bad.
    response = client.get(AuthorizationRequest(client_id="nobody").url())
    assert "Location" not in response


def test_pkce_is_required(verified_client):
    params = callback_params(verified_client.get(AuthorizationRequest().url(code_challenge=None)))
    assert params["error"] == "invalid_request"


def test_plain_pkce_is_refused(verified_client):
    request = AuthorizationRequest()
    response = verified_client.get(request.url(code_challenge="a" * 43, code_challenge_method="plain"))
    params = callback_params(response)
    assert params["error"] == "invalid_request"


def test_wrong_verifier_is_invalid_grant(client, application, totp_device):
    from tests.oauth import consent, redeem

    request = AuthorizationRequest()
    login(client)
    pass_totp(client, totp_device)
    code = callback_params(consent(client, request))["code"]
    request.verifier = "w" * 50
    response = redeem(client, code, request)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_implicit_grant_is_off(verified_client):
    params = callback_params(verified_client.get(AuthorizationRequest().url(response_type="token")))
    assert params["error"] == "unsupported_response_type"


def test_password_grant_is_off(client, application):
    response = client.post(
        "/o/token/",
        {
            "grant_type": "password",
            "username": "alice",
            "password": "correct horse battery staple",
            "client_id": "rp",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("unsupported_grant_type", "unauthorized_client")
    assert "access_token" not in response.json()


def refresh(client, token: str):
    return client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": token, "client_id": "rp", "client_secret": CLIENT_SECRET},
    )


def test_refresh_rotates_keeps_the_context_and_detects_reuse(client, application, totp_device):
    from tests.oauth import jwt_payload

    first = full_authorization(client, totp_device)
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    before, after = jwt_payload(first["id_token"]), jwt_payload(rotated["id_token"])
    assert (after["acr"], after["amr"], after["auth_time"]) == (before["acr"], before["amr"], before["auth_time"])

    # Replaying the first refresh token revokes the whole family (REFRESH_TOKEN_REUSE_PROTECTION).
    assert refresh(client, first["refresh_token"]).status_code == 400
    assert refresh(client, rotated["refresh_token"]).status_code == 400


def test_authorization_response_carries_the_discovery_issuer(client, application, totp_device):
    from tests.oauth import consent

    request = AuthorizationRequest()
    login(client)
    pass_totp(client, totp_device)
    params = callback_params(consent(client, request))
    issuer = client.get("/o/.well-known/openid-configuration").json()["issuer"]
    assert params["iss"] == issuer


def test_discovery_advertises_levels_and_supported_prompts(client):
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["acr_values_supported"] == ["urn:mfa_oauth:acr:pwd", "urn:mfa_oauth:acr:mfa", "phr", "phrh"]
    assert set(data["prompt_values_supported"]) == {"none", "login"}
    assert {"acr", "amr", "auth_time"} <= set(data["claims_supported"])
    assert data["claims_parameter_supported"] is True
    assert data["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/mfa/verify/", "/o/authorize/?client_id=nobody"])
def test_pages_refuse_framing_and_leak_no_referrer(client, user, path):
    login(client)
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


def test_consent_page_refuses_framing(verified_client):
    response = verified_client.get(AuthorizationRequest().url())
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_credential_posts_answer_with_302_or_303(client, user, totp_device):
    assert login(client).status_code == 302
    assert pass_totp(client, totp_device).status_code == 303
