"""The whole journey over real HTTP with an independent OAuth client (authlib) and independent TOTP
codes (pyotp); the id_token is verified against the JWKS with joserfc."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urljoin

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import CLIENT_SECRET, PASSWORD, create_demo_client, totp_for
from tests.pages import form_action, hidden_fields

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_totp_consent_code_token_with_authlib(live_server, make_application, user, totp_device):
    redirect_uri = f"{live_server.url}/cb"
    make_application(redirect_uris=redirect_uri)
    base = live_server.url
    discovery = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10).json()

    oauth = OAuth2Session(
        "rp", CLIENT_SECRET, scope="openid profile email", redirect_uri=redirect_uri, code_challenge_method="S256"
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    url, state = oauth.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    browser = requests.Session()
    login_page = browser.get(url, timeout=10)  # redirected to the login page
    assert "/accounts/login/" in login_page.url
    fields = hidden_fields(login_page.text)
    fields.update(username="alice", password=PASSWORD)
    challenge_page = browser.post(login_page.url, data=fields, timeout=10)
    # The login answers with the challenge page itself (mfa_oauth.oauth.after_login); its form posts to /mfa/verify/.
    action = form_action(challenge_page.text, "mfa-verify-form")
    assert action, "no form mfa-verify-form with an action"
    assert action.startswith("/mfa/verify/")
    fields = hidden_fields(challenge_page.text)
    fields.update(device=totp_device.persistent_id, token=totp_for(totp_device).now())
    consent_page = browser.post(urljoin(challenge_page.url, action), data=fields, timeout=10)
    assert 'id="authorizationForm"' in consent_page.text
    fields = hidden_fields(consent_page.text)
    fields["allow"] = "Authorize"
    answer = browser.post(consent_page.url, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(redirect_uri)

    token = oauth.fetch_token(
        discovery["token_endpoint"], authorization_response=answer.headers["Location"], code_verifier=verifier
    )
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": "rp"},
        nonce={"essential": True, "value": nonce},
    ).validate(decoded.claims)
    claims = decoded.claims
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa"
    assert set(claims["amr"]) == {"pwd", "otp", "mfa"}
    assert abs(claims["auth_time"] - claims["iat"]) < 60
    assert state in answer.headers["Location"]

    userinfo = requests.get(
        discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10
    ).json()
    assert (userinfo["acr"], userinfo["amr"], userinfo["auth_time"]) == (
        claims["acr"],
        claims["amr"],
        claims["auth_time"],
    )
    assert userinfo["email"] == "alice@example.com"


def test_demo_client_shows_the_claims(live_server, user, totp_device, settings):
    create_demo_client(live_server.url, user)
    browser = requests.Session()
    login_page = browser.get(f"{live_server.url}/demo/start/", timeout=10)

    fields = hidden_fields(login_page.text)
    fields.update(username="alice", password=PASSWORD)
    challenge_page = browser.post(login_page.url, data=fields, timeout=10)
    fields = hidden_fields(challenge_page.text)
    fields.update(device=totp_device.persistent_id, token=totp_for(totp_device).now())
    assert form_action(challenge_page.text, "mfa-verify-form"), "no form mfa-verify-form with an action"
    action = urljoin(challenge_page.url, form_action(challenge_page.text, "mfa-verify-form"))
    consent_page = browser.post(action, data=fields, timeout=10)
    fields = hidden_fields(consent_page.text)
    fields["allow"] = "Authorize"
    claims_page = browser.post(consent_page.url, data=fields, timeout=20)
    assert claims_page.url.rstrip("/").endswith("/demo"), claims_page.url
    text = claims_page.text
    assert 'id="claim-acr">urn:mfa_oauth:acr:mfa<' in text
    assert re.search(r'id="claim-amr">pwd, otp, mfa<', text)
