"""Headless Chromium: the security page and the admin user page with its factors (screenshots in artifacts/)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.backup_codes import flows as backup_flows
from mfa_oauth.backup_codes.models import BackupCodeDevice
from tests.conftest import PASSWORD, totp_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def _sign_in(page, base: str, next_path: str, username: str, device) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", totp_for(device).now())
    page.click("#mfa-verify")


def test_security_page(live_server, page, artifacts):
    violations = _csp_violations(page)
    user = get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="Pixel 8", confirmed=True)
    backup_flows.generate(user)
    _sign_in(page, live_server.url, "/account/security/", "alice", device)
    page.wait_for_selector("#mfa-factors")
    assert "Pixel 8" in page.text_content("#mfa-factors")
    assert "10 unused codes left" in page.text_content("#backup-remaining")
    page.screenshot(path=artifacts / "security-page.png", full_page=True)

    # Rename, then make a new set of backup codes and download it once.
    page.fill(".mfa-rename input[type=text]", "Work phone")
    page.click(".mfa-rename button")
    page.wait_for_selector("[data-message=success]")
    assert "Work phone" in page.text_content("#mfa-factors")
    page.click("#backup-codes-link")
    page.click("#backup-generate")
    page.wait_for_selector("#backup-codes")
    codes = [c.strip() for c in page.locator("#backup-codes code").all_text_contents()]
    assert len(codes) == 10
    page.screenshot(path=artifacts / "backup-codes.png", full_page=True)
    with page.expect_download() as info:
        page.click("#backup-download")
    saved = artifacts / "backup-codes.txt"
    info.value.save_as(saved)
    assert all(code in saved.read_text() for code in codes)
    saved.unlink()  # real codes of a throwaway user; do not keep them
    device.refresh_from_db()
    assert device.name == "Work phone"
    assert BackupCodeDevice.objects.get(user=user).remaining == 10
    assert violations == []


def test_admin_user_page_with_inline_factors(live_server, page, artifacts):
    violations = _csp_violations(page)
    User = get_user_model()
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    root_device = TOTPDevice.objects.create(user=root, name="admin phone", confirmed=True)
    alice = User.objects.create_user("alice", "alice@example.com", PASSWORD)
    TOTPDevice.objects.create(user=alice, name="Pixel 8", confirmed=True)
    HOTPDevice.objects.create(user=alice, name="YubiKey OTP", key=b"12345678901234567890".hex(), confirmed=True)
    backup_flows.generate(alice)

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mfa-verify-form")  # the admin asks staff for their second factor
    page.fill("#id_token", totp_for(root_device).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#mfa-overview-link")

    response = page.goto(f"{live_server.url}/admin/auth/user/{alice.pk}/change/")
    # Said on failure: which page came instead of the change form (a redirect to a step-up, an error).
    assert response is not None and response.status == 200, (response and response.status, page.url)
    assert page.url.endswith(f"/admin/auth/user/{alice.pk}/change/"), page.url
    page.wait_for_selector("#mfa-factor-table")
    rows = page.locator(".mfa-factor-row").all_text_contents()
    assert len(rows) == 3
    assert any("Pixel 8" in r for r in rows) and any("YubiKey OTP" in r for r in rows)
    page.locator("#mfa-factors").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "admin-user-factors.png", full_page=True)
    page.locator("#mfa-factors").screenshot(path=artifacts / "admin-user-factors-panel.png")

    page.goto(f"{live_server.url}/admin/mfa-overview/")
    page.wait_for_selector("#chart-enrollment svg")
    page.screenshot(path=artifacts / "admin-overview.png", full_page=True)

    page.goto(f"{live_server.url}/admin/auth/user/{alice.pk}/mfa/enroll/totp/")
    page.click("#mfa-enroll-submit")
    page.wait_for_selector("#mfa-qr svg")
    page.screenshot(path=artifacts / "admin-enroll-totp.png", full_page=True)
    assert violations == []
