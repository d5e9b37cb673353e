"""Idle and absolute session limits force re-authentication (clock moved, never slept)."""

from __future__ import annotations

import pytest
from django.test import Client

from mfa_oauth.conf import settings as mfa_settings

from .conftest import Pending, RelyingParty, journey, use_totp


@pytest.fixture
def rp(stepup_app) -> RelyingParty:
    return RelyingParty(stepup_app.client_id)


def signed_in(rp, totp_device) -> Client:
    browser = Client()
    trip = journey(browser, rp.authorize_path(Pending()), second=use_totp(totp_device))
    assert "code" in trip.callback
    return browser


def test_the_defaults_are_nist_aal2():
    assert mfa_settings.SESSION_IDLE_TIMEOUT == 3600
    assert mfa_settings.SESSION_ABSOLUTE_TIMEOUT == 24 * 3600


def test_activity_within_the_idle_limit_keeps_the_session(rp, totp_device, clock):
    browser = signed_in(rp, totp_device)
    clock.shift(3600)
    assert journey(browser, rp.authorize_path(Pending())).steps == ["consent", "callback"]


def test_idle_limit_plus_one_second_asks_again(rp, totp_device, clock):
    browser = signed_in(rp, totp_device)
    clock.shift(3601)
    trip = journey(browser, rp.authorize_path(Pending()), second=use_totp(totp_device))
    assert trip.steps == ["login", "verify", "consent", "callback"]


def test_absolute_limit_ends_even_an_active_session(rp, totp_device, clock):
    browser = signed_in(rp, totp_device)
    # Active every 50 minutes for 24 hours: never idle ...
    for _ in range(28):
        clock.shift(50 * 60)
        assert browser.get("/").context["user"].is_authenticated
    clock.shift(24 * 3600 - 28 * 50 * 60 + 1)  # ... until 24 h + 1 s after the login
    assert not browser.get("/").context["user"].is_authenticated
    trip = journey(browser, rp.authorize_path(Pending()), second=use_totp(totp_device))
    assert trip.steps == ["login", "verify", "consent", "callback"]


def test_a_new_login_restarts_the_absolute_clock(rp, totp_device, clock):
    browser = signed_in(rp, totp_device)
    clock.shift(23 * 3600)
    browser.get("/")
    clock.shift(50 * 60)
    # prompt=login: a new login at 23h50 starts a new 24 h period.
    trip = journey(browser, rp.authorize_path(Pending(), prompt="login"), second=use_totp(totp_device))
    assert trip.steps == ["login", "verify", "consent", "callback"]
    clock.shift(3000)  # 24h40 after the first login, 50 min after the second
    assert journey(browser, rp.authorize_path(Pending())).steps == ["consent", "callback"]


def test_limits_are_settings(rp, totp_device, clock, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "SESSION_IDLE_TIMEOUT": 60, "SESSION_ABSOLUTE_TIMEOUT": None}
    browser = signed_in(rp, totp_device)
    clock.shift(61)
    assert journey(browser, rp.authorize_path(Pending())).steps[0] == "login"
