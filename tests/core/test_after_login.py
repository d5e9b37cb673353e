"""mfa_oauth.oauth.after_login: a login started by /o/authorize/ is answered with the challenge page,
exactly the one the authorization endpoint would send it to (its form posting there), and nowhere else."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.conftest import totp_for
from tests.oauth import AuthorizationRequest, login

pytestmark = pytest.mark.django_db


class _Forms(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.actions: dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id"):
            self.actions[a["id"]] = a.get("action") or ""


def challenge_action(response) -> str:
    """Where the challenge page's code form posts."""
    return _Forms(response.content.decode()).actions["mfa-verify-form"]


def test_the_login_answers_with_the_challenge_page_the_authorization_endpoint_would_send_it_to(
    client, application, totp_device
):
    request = AuthorizationRequest()
    response = login(client, next_url=request.url())
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    # Its form posts to /mfa/verify/ with what the authorization endpoint answers the same password-only session.
    action = challenge_action(response)
    assert action.startswith("/mfa/verify/?") and client.get(request.url())["Location"] == action


def test_the_page_answered_by_the_login_posts_its_code_to_the_challenge(client, application, totp_device):
    request = AuthorizationRequest()
    action = challenge_action(login(client, next_url=request.url()))
    answer = client.post(action, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
    assert answer.status_code == 303 and answer["Location"] == request.url()
    assert client.get(request.url()).status_code == 200  # the consent page: the gate is satisfied


def test_the_page_answered_by_the_login_refuses_a_wrong_code(client, application, totp_device):
    request = AuthorizationRequest()
    action = challenge_action(login(client, next_url=request.url()))
    wrong = f"{(int(totp_for(totp_device).now()) + 1) % 1_000_000:06d}"
    answer = client.post(action, {"device": totp_device.persistent_id, "token": wrong})
    assert answer.status_code == 200 and b"did not work" in answer.content
    assert client.get(request.url())["Location"].startswith("/mfa/verify/")  # still only the password


def test_a_step_up_request_keeps_its_level_and_methods(client, make_application, totp_device):
    make_application(mfa_mode="always", allowed_methods=["totp"])
    request = AuthorizationRequest(extra={"acr_values": "urn:mfa_oauth:acr:mfa"})
    action = challenge_action(login(client, next_url=request.url()))
    assert client.get(request.url())["Location"] == action
    assert "level=1" in action and "methods=totp" in action


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
