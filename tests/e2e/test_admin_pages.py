"""The admin pages an operator uses, in a real browser: clients with their MFA policy, lock states."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import lockout
from tests.conftest import totp_for

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "admin-e2e-password-123"


@pytest.fixture
def admin_user(db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", ADMIN_PASSWORD)
    TOTPDevice.objects.create(user=admin, name="admin phone", confirmed=True)
    return admin


def test_admin_pages(live_server, page, admin_user, user, demo_client, artifacts):
    lockout.claim_attempt(user)
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.screenshot(path=artifacts / "1-admin-login.png", full_page=True)
    page.click("input[type=submit]")
    # Staff pass a second factor before the admin opens (mfa_oauth.operators.MFAAdminSite).
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", totp_for(TOTPDevice.objects.get(user=admin_user)).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#site-name")
    page.screenshot(path=artifacts / "2-admin-index.png", full_page=True)
    assert page.locator("a[href='/admin/oauth2_provider/application/']").count() >= 1

    page.goto(f"{live_server.url}/admin/oauth2_provider/application/")
    page.wait_for_selector("#result_list")
    assert "Demo client" in page.text_content("#result_list")
    page.screenshot(path=artifacts / "3-applications.png", full_page=True)

    page.goto(f"{live_server.url}/admin/oauth2_provider/application/{demo_client.pk}/change/")
    page.wait_for_selector("#application_form")
    assert page.locator("select[name='mfa_policy-0-mfa_mode']").input_value() == "always"
    page.screenshot(path=artifacts / "4-application-policy.png", full_page=True)

    page.goto(f"{live_server.url}/admin/mfa_oauth/clientpolicy/")
    page.wait_for_selector("#result_list")
    page.screenshot(path=artifacts / "5-client-policies.png", full_page=True)

    page.goto(f"{live_server.url}/admin/mfa_oauth/usermfastate/")
    page.wait_for_selector("#result_list")
    assert "alice" in page.text_content("#result_list")
    page.screenshot(path=artifacts / "6-lock-states.png", full_page=True)

    page.goto(f"{live_server.url}/admin/otp_totp/totpdevice/")
    page.wait_for_selector("#changelist")
    page.screenshot(path=artifacts / "7-totp-devices.png", full_page=True)
