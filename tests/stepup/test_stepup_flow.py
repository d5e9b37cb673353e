"""RFC 9470 end to end: the sample API refuses, the client steps up, the new token is accepted.

Browser: Django's test client. Relying party and resource-server calls: ``requests`` against
``live_server``. id_tokens verified with jwcrypto against the JWKS.
"""

from __future__ import annotations

import pytest
from django.test import Client

from mfa_oauth.context import ACR_MFA, ACR_PHISHING_RESISTANT
from mfa_oauth.resource import parse_www_authenticate

from .conftest import START, Pending, RelyingParty, journey, use_key, use_totp

pytestmark = pytest.mark.django_db(transaction=True)

T0 = int(START.timestamp())
TRANSFER_CHALLENGE = (
    'Bearer error="insufficient_user_authentication", '
    'error_description="A stronger or more recent authentication is required", '
    'acr_values="phr urn:mfa_oauth:acr:mfa", max_age="300"'
)


def api(rp: RelyingParty, name: str, token: str):
    method = rp.http.get if name == "balance" else rp.http.post
    return method(f"{rp.base_url}/api/{name}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture
def rp(live_server, stepup_app) -> RelyingParty:
    return RelyingParty(stepup_app.client_id, base_url=live_server.url)


def sign_in(rp, browser, second, **extra):
    pending = Pending()
    trip = journey(browser, rp.authorize_path(pending, **extra), second=second)
    return trip, rp.redeem(trip.code, pending)


def test_totp_token_is_refused_by_transfer_and_stepping_up_to_a_key_is_accepted(rp, clock, totp_device, security_key):
    browser = Client()
    trip, tokens = sign_in(rp, browser, use_totp(totp_device))
    assert trip.steps == ["login", "verify", "consent", "callback"]
    assert tokens["claims"]["acr"] == ACR_MFA
    assert tokens["claims"]["amr"] == ["pwd", "otp", "mfa"]
    assert tokens["claims"]["auth_time"] == T0

    assert api(rp, "balance", tokens["access_token"]).status_code == 200
    assert api(rp, "transfer", tokens["access_token"]).status_code == 200  # TOTP younger than 5 min

    clock.shift(360)
    refused = api(rp, "transfer", tokens["access_token"])
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == TRANSFER_CHALLENGE
    assert refused.json()["error"] == "insufficient_user_authentication"
    challenge = parse_www_authenticate(refused.headers["WWW-Authenticate"])
    assert challenge["acr_values"].split() == [ACR_PHISHING_RESISTANT, ACR_MFA]

    # The client asks for its preferred acr (the first one) within the challenge's max_age.
    trip, stronger = sign_in(
        rp, browser, use_key(security_key), acr_values=challenge["acr_values"].split()[0], max_age=challenge["max_age"]
    )
    # max_age exceeded: password again, then only factors reaching phr are offered.
    assert trip.steps == ["login", "verify", "consent", "callback"]
    assert trip.offered == [["testkey"]]
    assert stronger["claims"]["acr"] == ACR_PHISHING_RESISTANT
    assert stronger["claims"]["amr"] == ["pwd", "hwk", "user", "mfa"]
    assert stronger["claims"]["auth_time"] == T0 + 360

    accepted = api(rp, "transfer", stronger["access_token"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["acr"] == ACR_PHISHING_RESISTANT
    # phr is not bound by the 5 minutes
    clock.shift(400)
    assert api(rp, "transfer", stronger["access_token"]).status_code == 200


def test_max_age_in_the_challenge_forces_a_fresh_second_factor(rp, clock, totp_device):
    browser = Client()
    _trip, tokens = sign_in(rp, browser, use_totp(totp_device))
    clock.shift(360)
    refused = api(rp, "transfer", tokens["access_token"])
    challenge = parse_www_authenticate(refused.headers["WWW-Authenticate"])

    # The browser still has an MFA session; max_age=300 makes the provider ask for everything again.
    trip, fresh = sign_in(
        rp, browser, use_totp(totp_device), acr_values=challenge["acr_values"], max_age=challenge["max_age"]
    )
    assert trip.steps == ["login", "verify", "consent", "callback"]
    assert trip.offered == [["totp"]]
    assert fresh["claims"]["acr"] == ACR_MFA
    assert fresh["claims"]["auth_time"] == T0 + 360
    assert api(rp, "transfer", fresh["access_token"]).status_code == 200

    # Five minutes later the same token is too old again.
    clock.shift(301)
    again = api(rp, "transfer", fresh["access_token"])
    assert again.status_code == 401
    assert parse_www_authenticate(again.headers["WWW-Authenticate"])["max_age"] == "300"


def test_introspection_userinfo_and_id_token_agree_and_refresh_keeps_them(rp, clock, totp_device):
    browser = Client()
    _trip, tokens = sign_in(rp, browser, use_totp(totp_device))
    expected = {k: tokens["claims"][k] for k in ("acr", "amr", "auth_time")}

    introspected = rp.introspect(tokens["access_token"])
    assert introspected["active"] is True
    assert {k: introspected[k] for k in expected} == expected

    userinfo = rp.http.get(
        f"{rp.base_url}/o/userinfo/", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    ).json()
    assert {k: userinfo[k] for k in expected} == expected

    # Hours later (the user is long gone) the refreshed tokens keep the same authentication.
    clock.shift(3 * 3600)
    refreshed = rp.refresh(tokens["refresh_token"])
    assert refreshed["access_token"] != tokens["access_token"]
    after = rp.introspect(refreshed["access_token"])
    assert {k: after[k] for k in expected} == expected
    if "id_token" in refreshed:
        claims = rp.verify_id_token(refreshed["id_token"], nonce=None)
        assert {k: claims[k] for k in expected} == expected
    # ... so a refresh never satisfies a freshness requirement it did not meet.
    refused = api(rp, "transfer", refreshed["access_token"])
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == TRANSFER_CHALLENGE
    assert api(rp, "balance", refreshed["access_token"]).status_code == 200


def test_a_password_only_token_is_refused_by_balance(rp, make_application, clock, user):
    # A client whose policy is "off": the token records acr pwd.
    app = make_application(mfa_mode="off", client_id="weak")
    weak_rp = RelyingParty(app.client_id, base_url=rp.base_url)
    _trip, tokens = sign_in(weak_rp, Client(), None)
    assert tokens["claims"]["acr"] == "urn:mfa_oauth:acr:pwd"
    refused = api(weak_rp, "balance", tokens["access_token"])
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A different authentication level is required", '
        'acr_values="urn:mfa_oauth:acr:mfa"'
    )
