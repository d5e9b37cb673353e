"""Pushed Authorization Requests (RFC 9126) with an independent client (requests-oauth2client)."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone
from requests_oauth2client import ClientSecretBasic, OAuth2Client
from requests_oauth2client.exceptions import InvalidRequest

from mfa_oauth.fapi.models import PushedAuthorization
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import browser_authorizes, consent_form, make_client, sign_in_again

pytestmark = pytest.mark.django_db(transaction=True)


def oauth_client(base: str, client_id: str = "bank-app", **kwargs) -> OAuth2Client:
    return OAuth2Client.from_discovery_endpoint(
        f"{base}/o/.well-known/openid-configuration",
        auth=kwargs.pop("auth", None) or ClientSecretBasic(client_id, CLIENT_SECRET),
        redirect_uri=f"{base}/cb",
        testing=True,  # the live server speaks plain http
        **kwargs,
    )


def test_discovery_advertises_par(live_server, settings):
    for path in ("/o/.well-known/openid-configuration", "/o/.well-known/oauth-authorization-server"):
        data = requests.get(live_server.url + path, timeout=10).json()
        assert data["pushed_authorization_request_endpoint"] == f"{live_server.url}/o/par/"
        assert data["require_pushed_authorization_requests"] is False
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
    data = requests.get(live_server.url + "/o/.well-known/openid-configuration", timeout=10).json()
    assert data["require_pushed_authorization_requests"] is True


def test_par_then_authorize_with_request_uri_then_token(live_server, user, totp_device):
    make_client(live_server.url, require_par=True)
    client = oauth_client(live_server.url)
    authorization = client.authorization_request(scope="openid profile")
    pushed = client.pushed_authorization_request(authorization)
    assert pushed.request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    # RFC 9126 §2.2 expires_in: at most 60 s here.
    remaining = (pushed.expires_at - datetime.now(tz=dt_timezone.utc)).total_seconds()
    assert 0 < remaining <= 60
    # The browser carries only client_id and request_uri.
    assert set(parse_qs(urlsplit(pushed.uri).query)) == {"client_id", "request_uri"}

    answer = browser_authorizes(pushed.uri, totp_device)
    assert answer.status_code == 302, answer.text[:500]
    response = authorization.validate_callback(answer.headers["Location"])  # state and iss checked
    token = client.authorization_code(response)
    assert token.access_token and token.id_token is not None

    # RFC 9126 §4: single use. The same browser or another one: invalid_request_uri, never a code.
    for browser in (answer.browser, requests.Session()):
        again = browser.get(pushed.uri, allow_redirects=False, timeout=10)
        assert again.status_code == 400 and "invalid_request_uri" in again.text
        assert "code=" not in again.headers.get("Location", "")


def test_request_uri_is_bound_to_the_client_that_pushed_it(live_server, user, totp_device):
    make_client(live_server.url)
    make_client(live_server.url, client_id="other-app")
    pushed = oauth_client(live_server.url).pushed_authorization_request(
        oauth_client(live_server.url).authorization_request()
    )
    stolen = pushed.uri.replace("client_id=bank-app", "client_id=other-app")
    answer = requests.get(stolen, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "invalid_request_uri" in answer.text
    # Refused for the other client, and still unused for its own.
    assert PushedAuthorization.objects.get().used_at is None


def test_expired_request_uri_is_refused(live_server, user):
    make_client(live_server.url)
    client = oauth_client(live_server.url)
    pushed = client.pushed_authorization_request(client.authorization_request())
    PushedAuthorization.objects.update(expires=timezone.now() - timedelta(seconds=1))
    answer = requests.get(pushed.uri, allow_redirects=False, timeout=10)
    assert answer.status_code == 400 and "invalid_request_uri" in answer.text


def test_foreign_request_uri_is_refused(live_server, user):
    """A request object by reference (not a PAR reference of ours) is never fetched: OIDC Core §6.2's
    request_uri_not_supported at the client's registered redirect URI, and no code."""
    make_client(live_server.url)
    answer = requests.get(
        f"{live_server.url}/o/authorize/",
        params={
            "client_id": "bank-app",
            "response_type": "code",
            "redirect_uri": f"{live_server.url}/cb",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
            "request_uri": "https://attacker.example/request.jwt",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["request_uri_not_supported"] and "code" not in query


def test_unknown_par_reference_is_refused(live_server, user):
    make_client(live_server.url)
    answer = requests.get(
        f"{live_server.url}/o/authorize/",
        params={"client_id": "bank-app", "request_uri": "urn:ietf:params:oauth:request_uri:not-one-of-ours"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400 and "invalid_request_uri" in answer.text


def test_par_required_client_cannot_bypass_par(live_server, user, totp_device):
    make_client(live_server.url, require_par=True)
    client = oauth_client(live_server.url)
    plain = client.authorization_request()
    answer = requests.get(plain.uri, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(f"{live_server.url}/cb?") and "error=invalid_request" in location
    assert "code=" not in location


def test_server_wide_par_requirement(live_server, user, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS": True}
    make_client(live_server.url)
    answer = requests.get(oauth_client(live_server.url).authorization_request().uri, allow_redirects=False, timeout=10)
    assert "error=invalid_request" in answer.headers["Location"]


def test_consent_form_cannot_swap_the_pushed_parameters(live_server, user, totp_device):
    """The consent POST of a pushed request is answered with the pushed parameters, whatever it says."""
    make_client(live_server.url, require_par=True)
    client = oauth_client(live_server.url)
    authorization = client.authorization_request(scope="openid")
    pushed = client.pushed_authorization_request(authorization)
    answer = browser_authorizes(pushed.uri, totp_device)
    assert answer.status_code == 302
    token = client.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    assert token.scope == "openid"


def test_par_requires_client_authentication(live_server, user):
    make_client(live_server.url)
    client = oauth_client(live_server.url)
    body = dict(client.authorization_request().args)
    answer = requests.post(f"{live_server.url}/o/par/", data=body, timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    answer = requests.post(f"{live_server.url}/o/par/", data=body, auth=("bank-app", "wrong"), timeout=10)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert not PushedAuthorization.objects.exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "https://attacker.example/cb"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"client_id": "someone-else"}, "invalid_request"),
        ({"scope": "openid nonexistent"}, "invalid_scope"),
    ],
)
def test_malformed_pushed_requests_get_the_spec_error(live_server, user, change, error):
    make_client(live_server.url)
    body = dict(oauth_client(live_server.url).authorization_request().args)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    answer = requests.post(f"{live_server.url}/o/par/", data=body, auth=("bank-app", CLIENT_SECRET), timeout=10)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error
    assert answer.headers["Cache-Control"] == "no-store"
    assert not PushedAuthorization.objects.exists()


def test_par_refuses_other_methods_and_bodies(live_server, user):
    make_client(live_server.url)
    for method in ("get", "put", "delete"):
        answer = requests.request(method, f"{live_server.url}/o/par/", auth=("bank-app", CLIENT_SECRET), timeout=10)
        assert answer.status_code == 405
    answer = requests.post(
        f"{live_server.url}/o/par/", json={"client_id": "bank-app"}, auth=("bank-app", CLIENT_SECRET), timeout=10
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def test_library_reports_par_errors(live_server, user):
    make_client(live_server.url)
    client = oauth_client(live_server.url)
    with pytest.raises(InvalidRequest):
        client.pushed_authorization_request(client.authorization_request(redirect_uri="https://attacker.example/cb"))


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": 0}])
def test_pushed_prompt_login_asks_for_one_new_login(live_server, user, totp_device, extra):
    """A signed-in browser: prompt=login / max_age=0 sends it to the login page once, then on to consent."""
    make_client(live_server.url)
    client = oauth_client(live_server.url)
    first = client.authorization_request(scope="openid")
    answer = browser_authorizes(client.pushed_authorization_request(first).uri, totp_device)
    browser = answer.browser

    again = client.authorization_request(scope="openid", **extra)
    pushed = client.pushed_authorization_request(again)
    login_page = browser.get(pushed.uri, timeout=10)
    assert "/accounts/login/" in login_page.url
    page = sign_in_again(browser, login_page, totp_device)
    assert 'id="authorizationForm"' in page.text, page.url
    done = browser.post(page.url, data=consent_form(page.text), allow_redirects=False, timeout=10)
    assert client.authorization_code(again.validate_callback(done.headers["Location"])).access_token
