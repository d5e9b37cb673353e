"""seed_demo's registration of the third-party finance app (idp_site.demo.finance), and the app's
answers to bad input. The whole flow in a browser: tests/e2e/test_finance_app.py."""

from __future__ import annotations

import json
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from oauth2_provider.models import get_application_model

from mfa_oauth.fapi.models import PushedAuthorization
from mfa_oauth.fapi.profile import profile_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def state_file(settings, tmp_path):
    settings.DEMO_FINANCE_STATE_FILE = tmp_path / "var" / "demo-finance-app.json"
    return settings.DEMO_FINANCE_STATE_FILE


def seed(base_url: str):
    call_command("seed_demo", "--base-url", base_url, "--quiet", stdout=StringIO())
    return get_application_model().objects.select_related("mfa_security").get(client_id="demo-finance-app")


def test_on_plain_http_the_profile_requirements_are_registered_one_by_one(state_file):
    client = seed("http://localhost:8000")
    profile = client.mfa_security
    assert client.client_type == client.CLIENT_CONFIDENTIAL
    assert profile.token_endpoint_auth_method == "private_key_jwt"
    assert profile.require_pushed_authorization_requests is True
    assert profile.authorization_details_types == ["account_information"]
    # FAPI 2.0 §5.3.2.2: https redirect URIs only; the switch stays off rather than bending the profile.
    assert profile.fapi2_security_profile is False
    assert any("not https" in error for error in profile_errors(profile))

    saved = json.loads(state_file.read_text())
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    private = saved["private_jwk"]
    assert private["kty"] == "EC" and "d" in private
    (registered,) = profile.jwks["keys"]
    assert "d" not in registered and registered["kid"] == private["kid"] and registered["x"] == private["x"]
    assert saved["fapi2_security_profile"] is False
    assert sorted(saved["demo_accounts"]) == ["alice", "bob"]


def test_on_https_the_switch_is_on_and_the_profile_is_met(state_file):
    client = seed("https://idp.example")
    assert client.redirect_uris == "https://idp.example/demo/finance/callback/"
    assert client.mfa_security.fapi2_security_profile is True
    assert profile_errors(client.mfa_security) == []


def test_a_second_run_keeps_the_key(state_file):
    first = seed("http://localhost:8000").mfa_security.jwks
    key = json.loads(state_file.read_text())["private_jwk"]
    assert seed("http://localhost:8000").mfa_security.jwks == first
    assert json.loads(state_file.read_text())["private_jwk"] == key
    assert get_application_model().objects.filter(client_id="demo-finance-app").count() == 1


def test_the_page_says_why_the_switch_is_off(client, state_file):
    seed("http://testserver")
    page = client.get("/demo/finance/").content.decode()
    assert 'id="finance-profile"' in page and "Not under the FAPI 2.0 switch" in page
    assert 'id="finance-connect-form"' in page


def test_a_bad_account_number_is_explained_and_nothing_is_pushed(client, state_file):
    seed("http://testserver")
    answer = client.post("/demo/finance/connect/", {"account_1": "DE89 0000'; --", "account_2": ""})
    assert answer.status_code == 400
    assert "4 to 34 letters and digits" in answer.content.decode()
    assert client.post("/demo/finance/connect/", {"account_1": "", "account_2": ""}).status_code == 400
    assert PushedAuthorization.objects.count() == 0


def test_before_seed_demo_the_page_says_what_to_run(client, state_file):
    assert "run manage.py seed_demo" in client.get("/demo/finance/").content.decode()
    answer = client.post("/demo/finance/connect/", {"account_1": "DE89000000020001"})
    assert answer.status_code == 302
    assert "seed_demo" in client.get("/demo/finance/").content.decode()


@pytest.mark.parametrize("path", ["connect/", "read/", "without-key/", "disconnect/"])
def test_the_actions_are_post_only(client, state_file, path):
    assert client.get(f"/demo/finance/{path}").status_code == 405


def test_a_callback_nobody_started_is_refused(client, state_file):
    seed("http://testserver")
    answer = client.get("/demo/finance/callback/?code=forged&state=forged")
    assert answer.status_code == 302
    assert "started no connection" in client.get("/demo/finance/").content.decode()


def test_a_refusal_is_said_in_words():
    from requests_oauth2client.exceptions import AuthorizationResponseError

    from idp_site.demo.finance import _oauth_error

    cancelled = AuthorizationResponseError(None, "http://app/cb?error=access_denied", "access_denied")
    assert _oauth_error(cancelled) == "access_denied"
    described = AuthorizationResponseError(None, "http://app/cb", "invalid_request", "The request_uri expired")
    assert _oauth_error(described) == "invalid_request: The request_uri expired"


def test_under_the_switch_the_page_says_so(client, state_file):
    seed("https://idp.example")
    page = client.get("/demo/finance/").content.decode()
    assert "Registered with the FAPI 2.0 Security Profile switch" in page
