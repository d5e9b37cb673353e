"""RFC 8628 device authorization grant behind the MFA gate; the password grant stays off."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.test import Client
from oauth2_provider.models import get_application_model, get_device_grant_model

from mfa_oauth.context import ACR_MFA
from tests.conftest import CLIENT_SECRET, PASSWORD, totp_for

from .conftest import START, RelyingParty, login

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
T0 = int(START.timestamp())


@pytest.fixture
def tv(device_app) -> RelyingParty:
    return RelyingParty(device_app.client_id)


def start(tv: RelyingParty) -> dict:
    answer = tv.post("/o/device-authorization/", {"client_id": tv.client_id, "scope": "openid balance"})
    assert answer.status == 200, answer.body
    data = answer.json()
    assert {"device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in"} <= set(data)
    return data


def poll(tv: RelyingParty, device_code: str):
    return tv.post("/o/token/", {"grant_type": GRANT, "device_code": device_code})


def approve(browser: Client, device: dict, totp_device=None) -> list[str]:
    """Walk the user-facing pages; returns the steps seen."""
    steps = []
    response = browser.get(urlparse(device["verification_uri_complete"]).path + "?user_code=" + device["user_code"])
    for _ in range(10):
        if response.status_code in (302, 303):
            location = response["Location"]
            path = urlparse(location).path
            if path == "/mfa/verify/":
                steps.append("verify")
                if totp_device is None:
                    return steps
                response = browser.post(
                    location,
                    {"device": totp_device.persistent_id, "token": totp_for(totp_device).now(), "action": "verify"},
                )
                continue
            if path.startswith("/o/device-grant-status/"):
                steps.append("approved")
                return steps
            response = browser.get(location)
            continue
        assert response.status_code == 200, response.content
        if "device-code-form" in response.content.decode():
            steps.append("user_code")
            response = browser.post(response.request["PATH_INFO"], {"user_code": device["user_code"]})
        elif "device-confirm-form" in response.content.decode():
            steps.append("confirm")
            response = browser.post(response.request["PATH_INFO"], {"action": "accept"})
        else:
            raise AssertionError(response.content)
    raise AssertionError(steps)


def test_device_flow_requires_the_second_factor_and_tokens_carry_the_authentication(tv, user, totp_device, clock):
    device = start(tv)
    pending = poll(tv, device["device_code"])
    assert pending.status == 400 and pending.json()["error"] == "authorization_pending"

    browser = Client()
    login(browser)
    clock.shift(20)
    steps = approve(browser, device, totp_device)
    assert steps == ["verify", "user_code", "confirm", "approved"]

    answer = poll(tv, device["device_code"])
    assert answer.status == 200, answer.body
    tokens = answer.json()
    introspected = tv.introspect(tokens["access_token"])
    assert introspected["active"] is True
    assert introspected["acr"] == ACR_MFA
    assert introspected["amr"] == ["pwd", "otp", "mfa"]
    assert introspected["auth_time"] == T0 + 20
    assert introspected["username"] == "alice"

    userinfo = tv.get("/o/userinfo/", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert (userinfo["acr"], userinfo["auth_time"]) == (ACR_MFA, T0 + 20)

    # The device code is single-use.
    again = poll(tv, device["device_code"])
    assert again.status == 400 and again.json()["error"] == "invalid_grant"

    # Refresh keeps the authentication of the approval.
    clock.shift(3600)
    refreshed = tv.post("/o/token/", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200, refreshed.body
    after = tv.introspect(refreshed.json()["access_token"])
    assert (after["acr"], after["amr"], after["auth_time"]) == (ACR_MFA, ["pwd", "otp", "mfa"], T0 + 20)


def test_a_password_only_session_cannot_approve_a_device(tv, user, totp_device, clock):
    device = start(tv)
    browser = Client()
    login(browser)
    # The user-code page itself sends a half-authenticated session to the challenge.
    assert approve(browser, device) == ["verify"]

    # Even with the grant bound to the user (as the user-code step would), the approval is gated.
    grant = get_device_grant_model().objects.get(device_code=device["device_code"])
    grant.user = user
    grant.save()
    confirm = f"/o/device-confirm/{tv.client_id}/{device['user_code']}"
    for response in (browser.get(confirm), browser.post(confirm, {"action": "accept"})):
        assert response.status_code == 302
        assert urlparse(response["Location"]).path == "/mfa/verify/"
    grant.refresh_from_db()
    assert grant.status == grant.AUTHORIZATION_PENDING
    assert poll(tv, device["device_code"]).json()["error"] == "authorization_pending"


def test_an_anonymous_browser_is_sent_to_login(tv, user):
    device = start(tv)
    response = Client().get(f"/o/device/?user_code={device['user_code']}")
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == "/accounts/login/"


def test_a_denied_device_gets_access_denied(tv, user, totp_device, clock):
    device = start(tv)
    browser = Client()
    login(browser)
    browser.post("/mfa/verify/?next=/", {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
    browser.post("/o/device/", {"user_code": device["user_code"]})
    response = browser.post(f"/o/device-confirm/{tv.client_id}/{device['user_code']}", {"action": "deny"})
    assert response.status_code == 302
    answer = poll(tv, device["device_code"])
    assert answer.status == 400 and answer.json()["error"] == "access_denied"


def test_another_client_cannot_redeem_the_device_code(tv, device_app, user, totp_device, clock, make_application):
    device = start(tv)
    browser = Client()
    login(browser)
    approve(browser, device, totp_device)
    Application = get_application_model()
    other = Application.objects.create(
        name="other",
        client_id="other-tv",
        client_secret=CLIENT_SECRET,
        user=device_app.user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_DEVICE_CODE,
        algorithm=Application.RS256_ALGORITHM,
    )
    thief = RelyingParty(other.client_id)
    answer = poll(thief, device["device_code"])
    assert answer.status == 400 and answer.json()["error"] == "invalid_grant"
    # ... and the rightful device still gets its tokens.
    assert poll(tv, device["device_code"]).status == 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": GRANT}, "invalid_request"),
        ({"grant_type": GRANT, "device_code": "no-such-code"}, "invalid_grant"),
        ({"grant_type": GRANT, "device_code": "x" * 500}, "invalid_grant"),
    ],
)
def test_bad_token_requests_get_oauth_errors(tv, user, data, error):
    answer = tv.post("/o/token/", data)
    assert answer.status in (400, 401), answer.body
    assert answer.json()["error"] == error


def test_expired_device_code(tv, user, clock):
    device = start(tv)
    clock.shift(device["expires_in"] + 1)
    answer = poll(tv, device["device_code"])
    assert answer.status == 400 and answer.json()["error"] == "expired_token"


def test_the_password_grant_stays_off_even_for_a_client_registered_for_it(user):
    Application = get_application_model()
    app = Application.objects.create(
        name="legacy",
        client_id="legacy",
        client_secret=CLIENT_SECRET,
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
        algorithm=Application.RS256_ALGORITHM,
    )
    legacy = RelyingParty(app.client_id)
    answer = legacy.post("/o/token/", {"grant_type": "password", "username": "alice", "password": PASSWORD})
    # mfa_oauth's server (mfa_oauth.oauth.server.MFAServer) does not offer the grant at all, for any
    # client (RFC 9700 §2.4); DOT's RFC 9700 gate would refuse it too. No token, whatever the password.
    assert answer.status == 400
    assert answer.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in answer.json()
    from oauth2_provider.models import get_access_token_model

    assert not get_access_token_model().objects.exists()


def test_discovery_and_the_device_response_name_absolute_endpoints(tv, user):
    config = tv.get("/o/.well-known/openid-configuration").json()
    assert config["device_authorization_endpoint"] == "http://testserver/o/device-authorization/"
    device = start(tv)
    assert device["verification_uri"] == "http://testserver/o/device/"
    assert device["verification_uri_complete"] == f"http://testserver/o/device/?user_code={device['user_code']}"
    assert device["interval"] == 5


def test_device_authorization_errors_are_json_not_500(tv, user):
    missing = tv.post("/o/device-authorization/", {}, auth=False)
    assert missing.status == 400 and missing.json()["error"] == "invalid_request"
    unknown = tv.post("/o/device-authorization/", {"client_id": "nobody"}, auth=False)
    assert unknown.status in (400, 401) and unknown.json()["error"] in ("invalid_request", "invalid_client")
