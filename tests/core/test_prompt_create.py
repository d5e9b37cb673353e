"""prompt=create (OpenID Connect Prompt Create 1.0) through the gated authorization endpoint.

DOT's OIDC_RP_INITIATED_REGISTRATION_ENABLED keeps working with mfa_oauth's view: an anonymous
user is sent to the registration page, a signed-in one meets the gate as for any request, and a
provider without registration answers invalid_request (§4.1.1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from oauth2_provider.models import Grant

from tests.oauth import AuthorizationRequest, full_authorization, login

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


@pytest.fixture
def registration(settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RP_INITIATED_REGISTRATION_ENABLED": True,
        "OIDC_RP_INITIATED_REGISTRATION_URL": SIGNUP,
    }


def test_without_registration_prompt_create_is_invalid_request(client, application):
    response = client.get(AuthorizationRequest().url(prompt="create"))
    assert response.status_code == 400
    assert "Location" not in response
    assert response.json()["error"] == "invalid_request"
    discovery = client.get("/o/.well-known/openid-configuration").json()
    assert "create" not in discovery["prompt_values_supported"]


def test_anonymous_user_is_sent_to_registration_and_back_without_create(client, application, registration):
    request = AuthorizationRequest()
    response = client.get(request.url(prompt="login create"))
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == SIGNUP
    back = parse_qs(urlparse(parse_qs(location.query)["next"][0]).query)
    assert back["prompt"] == ["login"]  # the other prompt values stay for after registration
    assert back["client_id"] == ["rp"] and back["state"] == [request.state]
    assert client.get("/o/.well-known/openid-configuration").json()["prompt_values_supported"] == [
        "none",
        "login",
        "create",
    ]


def test_unknown_client_is_shown_an_error_not_registration(client, application, registration):
    response = client.get(AuthorizationRequest(client_id="nobody").url(prompt="create"))
    assert response.status_code == 400
    assert "Location" not in response


def test_signed_in_user_with_prompt_create_still_passes_the_gate(client, application, totp_device, registration):
    login(client)
    response = client.get(AuthorizationRequest().url(prompt="create"))
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == "/mfa/verify/"
    assert not Grant.objects.exists()


def test_complete_sign_in_with_prompt_create_gets_the_consent_page(client, application, totp_device, registration):
    full_authorization(client, totp_device)
    response = client.get(AuthorizationRequest().url(prompt="create"))
    assert response.status_code == 200  # DOT's consent form: create is a no-op for a session
