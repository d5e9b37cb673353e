"""The whole bank flow with requests-oauth2client: PAR + private_key_jwt + DPoP + RAR → login → TOTP →
consent with the details → code → DPoP-bound token → the account API serves only the consented account;
a payment needs its payment_initiation detail and a fresh second factor (RFC 9470)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import requests
import time_machine
from django.core.cache import caches
from requests_oauth2client import OAuth2Client, PrivateKeyJwt

from idp_site.api.bank import accounts_of
from mfa_oauth.dpop import access_token_hash
from mfa_oauth.fapi.models import ClientSecurityProfile
from tests.fapi.helpers import browser_authorizes, client_key, make_client, public_set

pytestmark = pytest.mark.django_db(transaction=True)
REDIRECT = "https://finance-app.example/cb"
PAYMENT = {
    "type": "payment_initiation",
    "instructedAmount": {"currency": "EUR", "amount": "42.00"},
    "creditorName": "Landlord",
    "creditorAccount": {"iban": "DE02100100109307118603"},
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    caches["default"].clear()
    yield


@pytest.fixture
def finance_app(live_server, user):
    key = client_key("ES256")
    app = make_client(live_server.url, client_id="finance-app", auth_method="private_key_jwt", jwks=public_set(key))
    app.redirect_uris = REDIRECT
    app.save()
    ClientSecurityProfile.objects.filter(application=app).update(
        fapi2_security_profile=True, authorization_details_types=["account_information", "payment_initiation"]
    )
    metadata = requests.get(f"{live_server.url}/o/.well-known/oauth-authorization-server", timeout=10).json()
    return OAuth2Client.from_discovery_document(
        metadata,
        authorization_server_jwks=requests.get(metadata["jwks_uri"], timeout=10).json(),
        auth=PrivateKeyJwt("finance-app", key, aud=metadata["issuer"]),
        redirect_uri=REDIRECT,
        dpop_bound_access_tokens=True,
        testing=True,
    )


def token_for(client: OAuth2Client, device, details: list[dict], untick: tuple[str, ...] = ()):
    authorization = client.authorization_request(scope="balance", authorization_details=json.dumps(details))
    pushed = client.pushed_authorization_request(authorization)
    answer = browser_authorizes(pushed.uri, device, untick=untick)
    callback = authorization.validate_callback(answer.headers["Location"])
    return client.token_request(
        {
            "grant_type": "authorization_code",
            "code": callback.code,
            "redirect_uri": callback.redirect_uri,
            "code_verifier": callback.code_verifier,
        },
        dpop_key=authorization.dpop_key,
    )


def test_the_app_reads_only_the_consented_account(live_server, finance_app, user, totp_device):
    current, savings = accounts_of(user)
    detail = {
        "type": "account_information",
        "actions": ["read_balances", "read_transactions"],
        "accounts": [current.id],
    }
    token = token_for(finance_app, totp_device, [detail])
    assert token.token_type == "DPoP" and token.kwargs["authorization_details"] == [detail]

    listed = requests.get(f"{live_server.url}/api/accounts/", auth=token, timeout=10)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["accounts"]] == [current.id]
    own = requests.get(f"{live_server.url}/api/accounts/{current.id}/transactions", auth=token, timeout=10)
    assert own.status_code == 200 and len(own.json()["transactions"]) == 3
    other = requests.get(f"{live_server.url}/api/accounts/{savings.id}/transactions", auth=token, timeout=10)
    assert other.status_code == 404
    # The same token without its key: refused (RFC 9449 §7.2).
    stolen = requests.get(
        f"{live_server.url}/api/accounts/", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    )
    assert stolen.status_code == 401 and stolen.headers["WWW-Authenticate"].startswith("DPoP")


def test_the_user_chooses_one_of_two_accounts_at_consent(live_server, finance_app, user, totp_device):
    current, savings = accounts_of(user)
    asked = {"type": "account_information", "actions": ["read_transactions"], "accounts": [current.id, savings.id]}
    token = token_for(finance_app, totp_device, [asked], untick=(current.id,))
    assert token.kwargs["authorization_details"] == [{**asked, "accounts": [savings.id]}]
    url = f"{live_server.url}/api/accounts/{{}}/transactions"
    assert requests.get(url.format(savings.id), auth=token, timeout=10).status_code == 200
    assert requests.get(url.format(current.id), auth=token, timeout=10).status_code == 404


def test_a_payment_needs_its_detail_and_a_fresh_second_factor(live_server, finance_app, user, totp_device):
    token = token_for(finance_app, totp_device, [PAYMENT])
    url = f"{live_server.url}/api/payments"
    body = {k: PAYMENT[k] for k in ("instructedAmount", "creditorName", "creditorAccount")}
    other = {**body, "instructedAmount": {"currency": "EUR", "amount": "4200.00"}}
    assert requests.post(url, json=other, auth=token, timeout=10).status_code == 403
    assert requests.post(url, json=body, auth=token, timeout=10).status_code == 201
    # Six minutes later the second factor is no longer fresh: the RFC 9470 challenge, in the DPoP scheme.
    # (A proof made by hand: requests-oauth2client 1.8.0 takes every 401 DPoP challenge for a nonce request.)
    with time_machine.travel(datetime.now(tz=dt_timezone.utc) + timedelta(minutes=6), tick=True):
        proof = str(token.dpop_key.proof(htm="POST", htu=url, ath=access_token_hash(token.access_token)))
        headers = {"Authorization": f"DPoP {token.access_token}", "DPoP": proof}
        late = requests.post(url, json=body, headers=headers, timeout=10)
    assert late.status_code == 401
    challenge = late.headers["WWW-Authenticate"]
    assert challenge.startswith('DPoP error="insufficient_user_authentication"') and "max_age" in challenge
