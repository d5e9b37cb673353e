"""Headless Chromium: SMS entries on the security page, and verifying a number an admin entered
(screenshots in artifacts/). The real SMS factor with its in-memory gateway."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.sms import api
from mfa_oauth.sms.models import SMSDevice
from tests.account.test_browser import _csp_violations, _sign_in
from tests.conftest import PASSWORD
from tests.sms.conftest import locmem_sms, mfa_settings  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_security_page_verifies_an_assigned_number(live_server, page, artifacts, locmem_sms):  # noqa: F811
    violations = _csp_violations(page)
    user = get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="Pixel 8", confirmed=True)
    SMSDevice.objects.create(user=user, name="Home phone", number="+12025550124", confirmed=True)
    assigned = api.add_number(user, "+1 202 555 0123", name="Work phone")  # as the admin does
    _sign_in(page, live_server.url, "/account/security/", "alice", device)
    page.wait_for_selector("#mfa-pending")
    assert "+1 ••• ••• 0124" in page.text_content("#mfa-factors")
    assert "redirected to another SIM" in page.text_content("#mfa-factors")
    assert "+1 ••• ••• 0123" in page.text_content("#mfa-pending")
    page.screenshot(path=artifacts / "security-page-sms.png", full_page=True)

    page.click("#pending-1-verify")
    page.wait_for_selector("#mfa-sms-send")
    assert page.is_visible("#mfa-sms-risk")
    page.click("#mfa-sms-send")
    page.wait_for_selector("#mfa-sms-verify-form")
    page.screenshot(path=artifacts / "verify-number.png", full_page=True)
    [sms] = locmem_sms
    page.fill("#id_token", re.search(r"\d{6}", sms.body).group(0))
    page.click("#mfa-sms-confirm")
    page.wait_for_selector("#mfa-factors")
    assert page.locator("#mfa-pending").count() == 0
    assert "Work phone" in page.text_content("#mfa-factors")
    assigned.refresh_from_db()
    assert assigned.confirmed
    assert violations == []
