"""RFC 9126 §1 and §4: once the browser presented ``request_uri``, the pushed parameters stay off the front
channel. Every URL the browser is sent to afterwards (login ``next``, the second factor, back to
``/o/authorize/``, the consent form's action) carries only ``client_id`` and ``request_uri``; the browser's
session copy of the pushed request stands for the rest. A requests session records every URL it visits
and every form it is given, as a browser would see them."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from idp_site.api.bank import accounts_of
from mfa_oauth.fapi.models import ClientSecurityProfile
from tests.conftest import PASSWORD, totp_for
from tests.fapi.helpers import consent_form, form_action, hidden_fields, make_client, secret_client, sign_in_again

pytestmark = pytest.mark.django_db(transaction=True)
PUSHED_ONLY = ("authorization_details", "code_challenge", "redirect_uri", "scope", "state", "nonce", "prompt")


class Browser(requests.Session):
    """A requests session that remembers each URL it requested, each redirect and each form action."""

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []
        self.hooks["response"].append(self._record)

    def _record(self, response, *args, **kwargs):
        self.seen.append(response.url)
        if response.headers.get("Location"):
            self.seen.append(urljoin(response.url, response.headers["Location"]))
        for action in (form_action(response.text, "mfa-verify-form"), form_action(response.text, "authorizationForm")):
            if action:
                self.seen.append(urljoin(response.url, action))

    def assert_front_channel_clean(self, first: str, live_url: str):
        """No URL after the first carries a pushed parameter, nested in ``next`` or not."""
        assert self.seen[0] == first
        for url in self.seen[1:]:
            if not url.startswith(live_url) or urlsplit(url).path == "/cb":
                continue  # the redirect to the client's redirect_uri carries the response, not the request
            for name in PUSHED_ONLY:
                assert name not in url, (name, url)
            query = parse_qs(urlsplit(url).query)
            if urlsplit(url).path == "/o/authorize/":
                assert set(query) == {"client_id", "request_uri"}, url


@pytest.fixture
def browsers():
    """New browsers, closed at the end of the test (no keep-alive connection outlives it)."""
    made: list[Browser] = []

    def new() -> Browser:
        made.append(Browser())
        return made[-1]

    yield new
    for browser in made:
        browser.close()


@pytest.fixture
def oauth(live_server, user):
    app = make_client(live_server.url, require_par=True)
    ClientSecurityProfile.objects.filter(application=app).update(authorization_details_types=["account_information"])
    client = secret_client(live_server.url)
    yield client
    client.session.close()


def _details(user) -> str:
    current, _savings = accounts_of(user)
    return json.dumps([{"type": "account_information", "actions": ["read_balances"], "accounts": [current.id]}])


def _login_and_second_factor(browser: Browser, url: str, device, at: float | None = None) -> requests.Response:
    login_page = browser.get(url, timeout=10)
    assert "/accounts/login/" in login_page.url, login_page.url
    fields = hidden_fields(login_page.text)
    fields.update(username="alice", password=PASSWORD)
    challenge = browser.post(login_page.url, data=fields, timeout=10)
    fields = hidden_fields(challenge.text)
    fields.update(device=device.persistent_id, token=totp_for(device).at(at or time.time()))
    return browser.post(urljoin(challenge.url, form_action(challenge.text, "mfa-verify-form")), data=fields, timeout=10)


def test_no_pushed_parameter_reaches_the_browser(live_server, oauth, browsers, user, totp_device):
    authorization = oauth.authorization_request(scope="openid balance", authorization_details=_details(user))
    pushed = oauth.pushed_authorization_request(authorization)
    browser = browsers()
    consent = _login_and_second_factor(browser, pushed.uri, totp_device)
    assert 'id="authorizationForm"' in consent.text, consent.url
    # The consent page itself: no hidden copy of the pushed request either (the POST is answered with it).
    fields = hidden_fields(consent.text)
    # ("next": the language switcher's way back, the short URL itself.)
    assert set(fields) - {"next"} == {"csrfmiddlewaretoken", "client_id", "request_uri", "authorization_details_choice"}
    browser.seen.append(urljoin(consent.url, fields.get("next", "")))
    assert authorization.code_challenge not in consent.text and authorization.state not in consent.text
    answer = browser.post(consent.url, data=consent_form(consent.text), allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    browser.assert_front_channel_clean(pushed.uri, live_server.url)
    # The login, the second factor and the consent form all went through the short URL, and the code is good.
    token = oauth.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    assert token.scope == "openid balance"
    # The session copy is dropped with the authorization response: the short URL is spent.
    again = browser.get(pushed.uri, allow_redirects=False, timeout=10)
    assert again.status_code == 400 and "invalid_request_uri" in again.text


def test_another_browser_cannot_use_the_claimed_request_uri(live_server, oauth, browsers, user, totp_device):
    pushed = oauth.pushed_authorization_request(oauth.authorization_request(scope="openid"))
    first = browsers()
    login_page = first.get(pushed.uri, timeout=10)
    assert "/accounts/login/" in login_page.url
    # The short URL the first browser is sent back to means nothing to anyone else.
    back = parse_qs(urlsplit(login_page.url).query)["next"][0]
    for url in (pushed.uri, urljoin(live_server.url, back)):
        other = browsers().get(url, allow_redirects=False, timeout=10)
        assert other.status_code == 400 and "invalid_request_uri" in other.text
        assert "code=" not in other.headers.get("Location", "")


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": 0}])
def test_pushed_prompt_login_neither_loops_nor_is_skipped(live_server, oauth, browsers, user, totp_device, extra):
    """A signed-in browser: the pushed prompt=login / max_age=0 asks for one new login, at the short URL."""
    first = oauth.authorization_request(scope="openid")
    browser = browsers()
    consent = _login_and_second_factor(browser, oauth.pushed_authorization_request(first).uri, totp_device)
    browser.post(consent.url, data=consent_form(consent.text), allow_redirects=False, timeout=10)

    again = oauth.authorization_request(scope="openid", **extra)
    pushed = oauth.pushed_authorization_request(again)
    browser.seen.clear()
    login_page = browser.get(pushed.uri, timeout=10)
    assert "/accounts/login/" in login_page.url
    # Not skipped: going straight back to the authorization endpoint without the new login is sent to login.
    short = urljoin(live_server.url, parse_qs(urlsplit(login_page.url).query)["next"][0])
    skipped = browser.get(short, allow_redirects=False, timeout=10)
    assert skipped.status_code == 302 and "/accounts/login/" in skipped.headers["Location"]
    # After the new login (password and second factor), on to consent, once: no second forced login.
    page = sign_in_again(browser, login_page, totp_device)
    assert 'id="authorizationForm"' in page.text, page.url
    done = browser.post(page.url, data=consent_form(page.text), allow_redirects=False, timeout=10)
    assert oauth.authorization_code(again.validate_callback(done.headers["Location"])).access_token
    browser.assert_front_channel_clean(pushed.uri, live_server.url)


def test_pushed_login_hint_and_ui_locales_still_reach_the_pages(live_server, oauth, browsers, user, totp_device):
    """The hints a pushed request carries are read from the browser's session copy, not from the URL."""
    pushed = oauth.pushed_authorization_request(
        oauth.authorization_request(scope="openid", login_hint="alice", ui_locales="de")
    )
    browser = browsers()
    login_page = browser.get(pushed.uri, timeout=10)
    assert "/accounts/login/" in login_page.url and "login_hint" not in login_page.url
    assert login_page.headers.get("Content-Language") == "de"
    assert 'value="alice"' in login_page.text
    # The second factor and the consent page, at the short URL, are in German as well.
    fields = hidden_fields(login_page.text)
    fields.update(username="alice", password=PASSWORD)
    challenge = browser.post(login_page.url, data=fields, timeout=10)
    assert challenge.headers.get("Content-Language") == "de"
    fields = hidden_fields(challenge.text)
    fields.update(device=totp_device.persistent_id, token=totp_for(totp_device).now())
    consent = browser.post(
        urljoin(challenge.url, form_action(challenge.text, "mfa-verify-form")), data=fields, timeout=10
    )
    assert 'id="authorizationForm"' in consent.text and '<html lang="de"' in consent.text
    assert set(parse_qs(urlsplit(consent.url).query)) == {"client_id", "request_uri"}
