"""mfa_oauth.oauth.after_login: a login started by /o/authorize/ goes straight to the challenge,
exactly where the authorization endpoint would send it, and nowhere else."""

from __future__ import annotations

import pytest

from tests.oauth import AuthorizationRequest, login

pytestmark = pytest.mark.django_db


def test_the_login_answers_the_challenge_url_the_authorization_endpoint_would(client, application, totp_device):
    request = AuthorizationRequest()
    response = login(client, next_url=request.url())
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/?")
    # What the authorization endpoint itself answers the same password-only session.
    assert client.get(request.url())["Location"] == response["Location"]


def test_a_step_up_request_keeps_its_level_and_methods(client, make_application, totp_device):
    make_application(mfa_mode="always", allowed_methods=["totp"])
    request = AuthorizationRequest(extra={"acr_values": "urn:mfa_oauth:acr:mfa"})
    response = login(client, next_url=request.url())
    assert client.get(request.url())["Location"] == response["Location"]
    assert "level=1" in response["Location"] and "methods=totp" in response["Location"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "no-such-client"},
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": None},
        {"prompt": "login"},
        {"max_age": "0"},
        {"response_type": "token"},
        {"claims": "{not json"},
    ],
)
def test_anything_the_authorization_endpoint_handles_itself_goes_there(client, application, totp_device, overrides):
    url = AuthorizationRequest().url(**overrides)
    response = login(client, next_url=url)
    assert response.status_code == 302 and response["Location"] == url


def test_a_user_without_a_second_factor_goes_to_the_authorization_endpoint(client, application, user):
    url = AuthorizationRequest().url()
    assert login(client, next_url=url)["Location"] == url


def test_a_client_that_never_asks_for_a_second_factor_goes_to_the_authorization_endpoint(
    client, make_application, totp_device
):
    make_application(mfa_mode="never")
    url = AuthorizationRequest().url()
    assert login(client, next_url=url)["Location"] == url


@pytest.mark.parametrize("next_url", ["/account/security/", "https://evil.example/o/authorize/?client_id=rp", ""])
def test_other_next_urls_are_left_to_django(client, application, totp_device, next_url):
    location = login(client, next_url=next_url)["Location"]
    assert not location.startswith("/mfa/verify/")
    assert "evil.example" not in location


def test_a_site_serving_dots_stock_authorization_view_is_left_alone(client, application, totp_device, settings):
    # bench/urls_plain.py: the same site with /o/ answered by stock django-oauth-toolkit.
    settings.ROOT_URLCONF = "bench.urls_plain"
    url = AuthorizationRequest().url()
    assert login(client, next_url=url)["Location"] == url
