"""Rich Authorization Requests (RFC 9396): registered types, per-client allow-list, consent in plain
words, storage with the grant, token response, introspection, no widening at refresh."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urljoin

import pytest
import requests
from django.core.cache import caches
from requests_oauth2client import ClientSecretBasic, OAuth2Client

from mfa_oauth.fapi.models import ClientSecurityProfile, PushedAuthorization
from mfa_oauth.models import AuthenticationRecord
from tests.conftest import CLIENT_SECRET, PASSWORD, totp_for
from tests.fapi.helpers import consent_form, form_action, hidden_fields, make_client

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS = {
    "type": "account_information",
    "actions": ["read_balances", "read_transactions"],
    "accounts": ["DE0012341234"],
    "until": "2027-03-31",
}
PAYMENT = {
    "type": "payment_initiation",
    "instructedAmount": {"currency": "EUR", "amount": "123.50"},
    "creditorName": "Merchant A",
    "creditorAccount": {"iban": "DE02100100109307118603"},
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    caches["default"].clear()
    yield


@pytest.fixture
def rar_client(live_server, user):
    app = make_client(live_server.url)
    ClientSecurityProfile.objects.filter(application=app).update(authorization_details_types=["account_information"])
    metadata = requests.get(f"{live_server.url}/o/.well-known/oauth-authorization-server", timeout=10).json()
    return OAuth2Client.from_discovery_document(
        metadata,
        authorization_server_jwks=requests.get(metadata["jwks_uri"], timeout=10).json(),
        auth=ClientSecretBasic("bank-app", CLIENT_SECRET),
        redirect_uri=f"{live_server.url}/cb",
        testing=True,
    )


def consent_page(url: str, device) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    login_page = browser.get(url, timeout=10)
    fields = hidden_fields(login_page.text)
    fields.update(username="alice", password=PASSWORD)
    challenge = browser.post(login_page.url, data=fields, timeout=10)
    fields = hidden_fields(challenge.text)
    fields.update(device=device.persistent_id, token=totp_for(device).now())
    # The password POST answers with the challenge page; its form posts to /mfa/verify/.
    target = urljoin(challenge.url, form_action(challenge.text, "mfa-verify-form"))
    return browser, browser.post(target, data=fields, timeout=10)


def test_discovery_lists_the_types(live_server):
    data = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10).json()
    assert data["authorization_details_types_supported"] == ["account_information", "payment_initiation"]


@pytest.mark.parametrize("pushed", [True, False], ids=["par", "authorize"])
def test_details_shown_granted_returned_and_kept_at_refresh(live_server, rar_client, totp_device, pushed):
    authorization = rar_client.authorization_request(scope="balance", authorization_details=json.dumps([ACCOUNTS]))
    url = rar_client.pushed_authorization_request(authorization).uri if pushed else authorization.uri
    browser, page = consent_page(url, totp_device)
    details = re.search(r'<ul id="authorization-details">(.*?)</ul>', page.text, re.S).group(1)
    assert "Read the balance and transactions of account(s) •••• 1234 until 2027-03-31" in unescape(details)
    answer = browser.post(page.url, data=consent_form(page.text), allow_redirects=False, timeout=10)
    token = rar_client.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    assert token.kwargs["authorization_details"] == [ACCOUNTS]  # RFC 9396 §7
    assert AuthenticationRecord.objects.get().authorization_details == [ACCOUNTS]
    assert rar_client.introspect_token(token.access_token)["authorization_details"] == [ACCOUNTS]
    # A refresh keeps them unchanged (RFC 9396 §6).
    refreshed = rar_client.refresh_token(token)
    assert refreshed.kwargs["authorization_details"] == [ACCOUNTS]
    # A widened detail at refresh is refused and issues nothing.
    wider = {**ACCOUNTS, "accounts": ["DE0012341234", "DE0099999999"]}
    response = requests.post(
        rar_client.token_endpoint,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed.refresh_token,
            "authorization_details": json.dumps([wider]),
        },
        auth=("bank-app", CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_authorization_details"
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    ("details", "why"),
    [
        ([PAYMENT], "may not use the type"),
        ([{"type": "crypto_trading"}], "Unknown authorization details type"),
        ([{**ACCOUNTS, "actions": ["transfer_everything"]}], "actions"),
        ([{**ACCOUNTS, "extra": 1}], "Additional properties"),
        ({"type": "account_information"}, "non-empty JSON array"),
        ([], "non-empty JSON array"),
        ("[{", "not JSON"),
        (["x"], "has no type"),
    ],
)
def test_bad_details_are_refused_at_par(live_server, rar_client, details, why):
    body = dict(rar_client.authorization_request(scope="balance").args)
    body["authorization_details"] = details if isinstance(details, str) else json.dumps(details)
    response = requests.post(f"{live_server.url}/o/par/", data=body, auth=("bank-app", CLIENT_SECRET), timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_authorization_details"
    assert why in response.json()["error_description"]
    assert not PushedAuthorization.objects.exists()


def test_bad_details_at_authorize_are_redirected_as_errors(live_server, rar_client, totp_device):
    authorization = rar_client.authorization_request(scope="balance", authorization_details=json.dumps([PAYMENT]))
    answer = requests.get(authorization.uri, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert "error=invalid_authorization_details" in answer.headers["Location"]
    assert "code=" not in answer.headers["Location"]


def test_second_authorization_in_a_signed_in_browser_keeps_the_pushed_details(live_server, rar_client, totp_device):
    """The consent form of an already signed-in browser posts to the short URL (client_id + request_uri):
    the code still carries everything pushed."""
    first = rar_client.authorization_request(scope="balance")
    browser, page = consent_page(rar_client.pushed_authorization_request(first).uri, totp_device)
    browser.post(page.url, data=consent_form(page.text), allow_redirects=False, timeout=10)

    second = rar_client.authorization_request(scope="balance", authorization_details=json.dumps([ACCOUNTS]))
    pushed = rar_client.pushed_authorization_request(second)
    page = browser.get(pushed.uri, timeout=10)
    assert page.url == pushed.uri and 'id="authorization-details"' in page.text
    answer = browser.post(page.url, data=consent_form(page.text), allow_redirects=False, timeout=10)
    token = rar_client.authorization_code(second.validate_callback(answer.headers["Location"]))
    assert token.kwargs["authorization_details"] == [ACCOUNTS]


def test_consent_choices_never_widen():
    from django.http import QueryDict

    from mfa_oauth import rar

    posted = QueryDict(mutable=True)
    posted["authorization_details_choice"] = "1"
    posted.setlist("authorization_details_account", ["0:DE0012341234", "0:DE00STOLEN0000", "1:DE0012341234"])
    assert rar.narrowed([ACCOUNTS, PAYMENT], posted) == [ACCOUNTS, PAYMENT]
    posted.setlist("authorization_details_account", ["0:DE00STOLEN0000"])
    assert rar.narrowed([ACCOUNTS, PAYMENT], posted) == [PAYMENT]
    # Without the consent form's marker (an API client's POST) nothing changes.
    assert rar.narrowed([ACCOUNTS], QueryDict("")) == [ACCOUNTS]
