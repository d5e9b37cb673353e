"""OIDC ``claims`` with an essential acr, voluntary acr_values, and malformed authentication parameters."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mfa_oauth.context import ACR_MFA, ACR_PHISHING_RESISTANT

from .conftest import Pending, RelyingParty, journey, use_key, use_totp


@pytest.fixture
def rp(stepup_app) -> RelyingParty:
    return RelyingParty(stepup_app.client_id)


def essential(*values: str) -> str:
    return json.dumps({"id_token": {"acr": {"essential": True, "values": list(values)}}})


def run(rp, second=None, **extra):
    pending = Pending()
    return journey(Client(), rp.authorize_path(pending, **extra), second=second), pending


def test_an_essential_acr_the_user_cannot_reach_fails_the_request(rp, totp_device):
    trip, pending = run(rp, use_totp(totp_device), claims=essential(ACR_PHISHING_RESISTANT))
    # The user is offered to add a key first (an OP may interact before the error); they decline.
    assert trip.steps == ["login", "offer", "callback"]
    assert trip.callback["error"] == "unmet_authentication_requirements"
    assert trip.callback["state"] == pending.state
    assert "code" not in trip.callback


def test_an_essential_acr_with_only_unknown_values_fails_the_request(rp, totp_device):
    trip, _ = run(rp, use_totp(totp_device), claims=essential("urn:example:unknown"))
    assert trip.callback["error"] == "unmet_authentication_requirements"


def test_an_essential_acr_the_user_can_reach_steps_up(rp, totp_device, security_key):
    trip, pending = run(rp, use_key(security_key), claims=essential(ACR_PHISHING_RESISTANT))
    assert trip.steps == ["login", "verify", "consent", "callback"]
    assert trip.offered == [["testkey"]]
    claims = rp.redeem(trip.code, pending)["claims"]
    assert claims["acr"] == ACR_PHISHING_RESISTANT


def test_the_id_token_carries_one_of_the_essential_values_never_another(rp, totp_device, security_key):
    # The user chooses the stronger key although "mfa" was asked: the acr stays a requested value.
    trip, pending = run(rp, use_key(security_key), claims=essential(ACR_MFA))
    claims = rp.redeem(trip.code, pending)["claims"]
    assert claims["acr"] == ACR_MFA
    assert claims["amr"] == ["pwd", "hwk", "user", "mfa"]  # amr still says what happened


def test_the_consent_post_is_gated_by_the_claims_it_carries(rp, totp_device):
    browser = Client()
    pending = Pending()
    # A normal sign-in first: the session reaches the mfa level.
    trip = journey(browser, rp.authorize_path(pending), second=use_totp(totp_device))
    assert "code" in trip.callback
    # A consent form posted with an essential phr claim never yields a code from an mfa session.
    response = browser.post(
        "/o/authorize/",
        {
            "client_id": rp.client_id,
            "redirect_uri": "https://rp.example/cb",
            "response_type": "code",
            "scope": "openid",
            "state": "s1",
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
            "claims": essential(ACR_PHISHING_RESISTANT),
            "allow": "Authorize",
        },
    )
    assert response.status_code == 302
    assert "error=unmet_authentication_requirements" in response["Location"]
    assert "code=" not in response["Location"]


def test_a_voluntary_unknown_acr_value_returns_the_achieved_acr(rp, totp_device):
    trip, pending = run(rp, use_totp(totp_device), acr_values="urn:example:unknown")
    assert trip.steps == ["login", "verify", "consent", "callback"]
    assert rp.redeem(trip.code, pending)["claims"]["acr"] == ACR_MFA


@pytest.mark.parametrize("max_age", ["-1", "abc", "1.5", "9" * 40])
def test_a_malformed_max_age_is_invalid_request(rp, user, max_age):
    trip, pending = run(rp, None, max_age=max_age)
    if max_age == "9" * 40:
        # A huge but well-formed integer is a valid (very long) max_age: the journey goes on
        # (to enrollment: this user has no second factor yet), never a 500.
        assert trip.steps[0] == "login" and "stopped:500" not in trip.steps
        return
    assert trip.steps == ["callback"]
    assert trip.callback["error"] == "invalid_request"
    assert trip.callback["state"] == pending.state


def test_malformed_claims_are_invalid_request(rp, user):
    trip, _ = run(rp, None, claims="{not json")
    assert trip.callback["error"] == "invalid_request"


@pytest.mark.parametrize("claims", ["null", "{not json", "[]", ""])
def test_a_half_authenticated_session_cannot_post_the_consent_form(rp, totp_device, claims):
    """The claims parameter (OIDC Core §5.5) through the consent POST, whatever the claims field holds."""
    browser = Client()
    pending = Pending()
    trip = journey(browser, rp.authorize_path(pending))  # password given, stops at the challenge
    assert trip.steps == ["login", "verify"]
    response = browser.post(
        "/o/authorize/",
        {
            "client_id": rp.client_id,
            "redirect_uri": "https://rp.example/cb",
            "response_type": "code",
            "scope": "openid",
            "state": "s1",
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
            "claims": claims,
            "allow": "Authorize",
        },
    )
    assert response.status_code == 302
    assert "code=" not in response["Location"]
