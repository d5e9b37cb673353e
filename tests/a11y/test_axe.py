"""axe-core over the pages of the journeys, in headless Chromium: no serious or critical violation on
the login page, the challenge (TOTP, and after a wrong code), consent, the security page, enrollment
(authenticator app, SMS number, security key), the error page and the admin's MFA pages."""

from __future__ import annotations

from pprint import pformat

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.models import MFAMode
from tests.a11y.axe import axe_script, serious_violations
from tests.conftest import PASSWORD, create_demo_client, totp_for

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "admin-a11y-password-123"


@pytest.fixture
def demo_client(live_server, user):
    return create_demo_client(live_server.url, user, MFAMode.ALWAYS)


@pytest.fixture(scope="session")
def axe():
    return axe_script()


@pytest.fixture
def audited(browser, axe):
    """A browser context whose pages are audited with ``check(page, name)``; violations are collected."""
    context = browser.new_context(bypass_csp=True)  # for axe's injected script only
    found: dict[str, list[dict]] = {}

    def check(page, name: str, within: str | None = None) -> None:
        found[name] = serious_violations(page, axe, within)

    yield context, check, found
    context.close()


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_the_user_journey_pages_have_no_serious_violation(
    live_server, audited, user, totp_device, demo_client, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    context, check, found = audited
    page = context.new_page()
    page.goto(f"{live_server.url}/demo/start/")
    page.wait_for_selector("#login-form")
    check(page, "login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    check(page, "challenge (authenticator app)")
    page.fill("#id_token", _wrong(totp_for(totp_device).now()))
    page.click("#mfa-verify")
    page.wait_for_selector("#mfa-error")
    check(page, "challenge after a wrong code")
    page.fill("#id_token", totp_for(totp_device).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")
    check(page, "consent")
    page.click("#authorizationForm input[name=allow]")
    page.wait_for_selector("#demo-claims")
    check(page, "claims (demo client)")

    for name, path, ready in [
        ("security page", "/account/security/", "h1"),
        ("enroll an authenticator app", "/mfa/enroll/totp/", "#mfa-enroll-form"),
        ("add an SMS number", "/mfa/sms/add/", "#mfa-sms-number-form"),
        ("security keys and passkeys", "/mfa/webauthn/", "h1"),
        ("remembered browsers", "/mfa/trust/", "h1"),
        ("page not found", "/no-such-page/", "#not-found"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(ready)
        check(page, name)
    failing = {name: v for name, v in found.items() if v}
    assert failing == {}, pformat(failing, width=200)


def test_the_admin_mfa_pages_have_no_serious_violation(live_server, audited, user, totp_device):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", ADMIN_PASSWORD)
    device = TOTPDevice.objects.create(user=admin, name="admin phone", confirmed=True)
    context, check, found = audited
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mfa-verify-form")
    check(page, "admin challenge")
    page.fill("#id_token", totp_for(device).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#site-name")
    check(page, "admin index")
    for name, path, ready, within in [
        ("MFA overview", "/admin/mfa-overview/", "#chart-enrollment", None),
        # Only mfa_oauth's part of Django's user change form: the rest (its date/time and filter widgets)
        # is Django's own.
        ("user with second factors", f"/admin/auth/user/{user.pk}/change/", "#mfa-factor-table", "#mfa-factors"),
        ("user: enroll an authenticator app", f"/admin/auth/user/{user.pk}/mfa/enroll/totp/", "#content", None),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(ready)
        check(page, name, within)
    failing = {name: v for name, v in found.items() if v}
    assert failing == {}, pformat(failing, width=200)


def test_the_challenge_for_each_factor_has_no_serious_violation(live_server, audited, user):
    """One user with every kind of factor: the code field lists the typed ones, the SMS has its send
    button, the security key its own button; then the same page in Japanese (lang, and longer text)."""
    from mfa_oauth.backup_codes.models import BackupCodeDevice
    from mfa_oauth.sms.models import SMSDevice
    from mfa_oauth.webauthn.models import WebAuthnCredential

    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    SMSDevice.objects.create(user=user, name="Mobile", number="+12025550123", confirmed=True)
    BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True).regenerate(10)
    WebAuthnCredential.objects.create(
        user=user, name="Blue key", credential_id=b"\x01" * 32, public_key=b"x", confirmed=True
    )
    context, check, found = audited
    page = context.new_page()
    for language in ("en", "ja"):
        page.goto(f"{live_server.url}/accounts/login/?next=/account/security/")
        page.select_option("#language-select", language)
        page.click("#language-submit")
        page.wait_for_selector(f"html[lang='{language}']")
        page.fill("#id_username", "alice")
        page.fill("#id_password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#mfa-verify-form")
        assert page.locator("[data-webauthn='authenticate']").count() == 1
        assert page.locator(".mfa-send-form").count() == 1
        check(page, f"challenge with every factor ({language})")
        page.click("#mfa-cancel")  # signed out, to sign in again in the next language
        page.wait_for_selector("h1")
    failing = {name: v for name, v in found.items() if v}
    assert failing == {}, pformat(failing, width=200)


def test_the_enrollment_qr_code_is_named(live_server, audited, user, totp_device):
    context, check, found = audited
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next=/mfa/enroll/totp/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", totp_for(totp_device).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#mfa-enroll-form")
    qr = page.locator("#mfa-qr")
    assert qr.get_attribute("role") == "img" and "QR code" in qr.get_attribute("aria-label")
    page.fill("#id_token", "000000")
    page.click("#mfa-confirm")
    page.wait_for_selector("#mfa-error")
    assert page.get_attribute("#id_token", "aria-invalid") == "true"
    assert page.get_attribute("#id_token", "aria-describedby") == "mfa-error"
    check(page, "enroll an authenticator app, after a wrong code")
    assert found == {"enroll an authenticator app, after a wrong code": []}


def test_the_step_up_and_device_pages_have_no_serious_violation(
    live_server, audited, user, totp_device, demo_client, device_app
):
    """The offer to add a security key (an app asking for phishing resistance), the security page
    continuing it, and the device flow's code and approval pages."""
    import requests

    from tests.conftest import CLIENT_SECRET
    from tests.oauth import AuthorizationRequest

    context, check, found = audited
    page = context.new_page()
    page.goto(f"{live_server.url}/demo/start/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", totp_for(totp_device).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")

    request = AuthorizationRequest(client_id=demo_client.client_id, redirect_uri=demo_client.redirect_uris.split()[0])
    page.goto(live_server.url + request.url(acr_values="phr"))
    page.wait_for_selector("#mfa-add-key")
    check(page, "a security key is needed")
    page.click("#mfa-add-key")
    page.wait_for_selector("#mfa-continue-link")
    check(page, "security page, continuing a request")

    device = requests.post(
        f"{live_server.url}/o/device-authorization/",
        data={"client_id": device_app.client_id, "client_secret": CLIENT_SECRET, "scope": "openid"},
        timeout=10,
    ).json()
    page.goto(f"{live_server.url}/o/device/")
    page.wait_for_selector("#device-code-form")
    check(page, "device: enter the code")
    page.fill("#id_user_code", device["user_code"])
    page.click("#device-code-submit")
    page.wait_for_selector("#device-confirm-form, #mfa-verify-form")
    if page.locator("#mfa-verify-form").count():
        page.fill("#id_token", totp_for(totp_device).now())
        page.click("#mfa-verify")
        page.wait_for_selector("#device-confirm-form")
    check(page, "device: approve")
    failing = {name: v for name, v in found.items() if v}
    assert failing == {}, pformat(failing, width=200)
