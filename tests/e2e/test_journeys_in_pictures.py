"""Every journey of the reference site as a person meets it, in headless Chromium, at 1280 and 390 px.

Each page is saved as a screenshot under ``$TMPDIR/mfa_oauth-journeys/<journey>-<width>/`` (printed at
the end of each test) so a person can look at them; docs/journeys.md says what was looked at.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import lockout
from mfa_oauth.backup_codes.flows import generate
from mfa_oauth.models import MFAMode
from mfa_oauth.sms.models import SMSDevice
from tests.conftest import PASSWORD, create_demo_client, totp_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)
ADMIN_PASSWORD = "admin-e2e-password-123"


class Album:
    """Numbered full-page screenshots of one journey at one width."""

    def __init__(self, page, name: str, width: int):
        self.page = page
        self.folder = Path(tempfile.gettempdir()) / "mfa_oauth-journeys" / f"{name}-{width}"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0
        page.set_viewport_size({"width": width, "height": 900})
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def shot(self, label: str) -> None:
        self.count += 1
        self.page.screenshot(path=self.folder / f"{self.count:02d}-{label}.png", full_page=True)

    def shot_of(self, selector: str, label: str) -> None:
        self.count += 1
        self.page.locator(selector).screenshot(path=self.folder / f"{self.count:02d}-{label}.png")

    def close(self) -> None:
        print(f"screenshots: {self.folder}")
        # The only console error a newcomer saw was the favicon's 404; none is left.
        assert not self.errors, self.errors


@pytest.fixture
def alice(transactional_db):
    alice = get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    device = TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    return alice, device


@pytest.fixture
def demo(live_server, transactional_db):
    owner = get_user_model().objects.create_user("owner")
    return create_demo_client(live_server.url, owner, MFAMode.ALWAYS)


@pytest.fixture
def site_settings(settings, live_server):
    """WebAuthn at the live server's own address; text messages in memory (Celery eager)."""
    from mfa_oauth.sms.gateways import locmem

    settings.MFA_OAUTH = {
        **settings.MFA_OAUTH,
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGINS": [live_server.url],
        "SMS_BACKEND": "locmem",
        "SMS_SITE_NAME": "Example IdP",
        "SMS_ALLOWED_COUNTRIES": ("GB", "US"),
    }
    locmem.clear()
    yield settings
    locmem.clear()


def log_in(page, album: Album, username: str = "alice", password: str = PASSWORD) -> None:
    page.wait_for_selector("#login-form")
    album.shot("login")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")


def next_code(device) -> str:
    """A code of the device's next unused time step (each step is accepted once)."""
    device.refresh_from_db()
    return totp_for(device).at(max(time.time(), (device.last_t + 1) * 30))


@pytest.mark.parametrize("width", WIDTHS)
def test_alice_signs_in_through_the_demo_and_an_abandoned_step_up_keeps_its_tokens(
    live_server, page, alice, demo, site_settings, width
):
    user, device = alice
    album = Album(page, "alice-demo", width)
    page.goto(f"{live_server.url}/demo/")
    album.shot("demo")
    page.click("#demo-start")
    log_in(page, album)
    page.wait_for_selector("#mfa-verify-form")
    # One code field, no radio buttons for code factors.
    assert page.locator("input[type=radio]").count() == 0
    album.shot("challenge")
    page.fill("#id_token", next_code(device))
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")
    album.shot("consent")
    page.click("#authorizationForm input[name=allow]")
    page.wait_for_selector("#demo-claims")
    album.shot("claims")
    page.click("#demo-api-balance")
    page.wait_for_selector("#demo-api-body")
    album.shot("api-answer")

    # A step-up abandoned half-way: a fresh login is asked, the person gives up at the challenge.
    page.click("#demo-start-login")
    log_in(page, album)
    page.wait_for_selector("#mfa-verify-form")
    album.shot("step-up-challenge")
    page.click("#mfa-cancel")
    page.goto(f"{live_server.url}/demo/")
    page.wait_for_selector("#demo-claims")  # the demo still holds its tokens
    album.shot("demo-after-abandoned-step-up")
    page.goto(f"{live_server.url}/no-such-page/")
    page.wait_for_selector("#not-found")
    album.shot("not-found")
    album.errors = [e for e in album.errors if "404" not in e]  # the page asked for is missing
    album.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_rename_interrupted_for_freshness_is_carried_out_with_a_backup_code(
    live_server, page, alice, site_settings, width
):
    user, device = alice
    codes = generate(user)
    album = Album(page, "security-rename", width)
    page.goto(f"{live_server.url}/account/security/")
    log_in(page, album)
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", next_code(device))
    page.click("#mfa-verify")
    page.wait_for_selector("#mfa-factors")
    album.shot("security")

    site_settings.MFA_OAUTH = {**site_settings.MFA_OAUTH, "FRESH_MFA_WINDOW": 1}
    time.sleep(1.5)  # the second factor is now older than the window
    page.fill(".mfa-rename input[type=text]", "Work phone")
    page.click(".mfa-rename button")
    page.wait_for_selector("#mfa-reason")
    assert "rename this factor" in page.text_content("h1")
    album.shot("step-up-with-reason")
    site_settings.MFA_OAUTH = {**site_settings.MFA_OAUTH, "FRESH_MFA_WINDOW": 300}
    page.fill("#id_token", codes[0])  # a backup code in the one code field
    page.click("#mfa-verify")
    page.wait_for_selector("[data-message=success]")
    assert "Work phone" in page.text_content("#mfa-factors")
    album.shot("renamed")

    page.click("#add-totp")
    page.wait_for_selector("#mfa-enroll-form")
    album.shot("add-app")
    import pyotp

    page.fill("#id_token", pyotp.TOTP(page.text_content("#mfa-secret").strip()).now())
    page.click("#mfa-confirm")
    page.wait_for_selector("[data-message=success]")
    assert "Authenticator app: Authenticator app" not in page.text_content("#mfa-factors")
    album.shot("app-added")
    album.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_bob_is_offered_to_send_a_code_first(live_server, page, demo, site_settings, width):
    from mfa_oauth.sms.gateways import locmem

    bob = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    SMSDevice.objects.create(user=bob, name="Demo phone", number="+12025550123", confirmed=True)
    album = Album(page, "bob-sms", width)
    page.goto(f"{live_server.url}/demo/")
    page.click("#demo-start")
    log_in(page, album, "bob")
    page.wait_for_selector("#mfa-send")
    assert page.locator("#id_token").count() == 0 and page.locator("#mfa-verify").count() == 0
    album.shot("send-first")
    page.click("#mfa-send")
    page.wait_for_selector("#mfa-verify-form")
    album.shot("code-sent")
    code = locmem.outbox[-1].body.split()[0]
    page.fill("#id_token", code)
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")
    page.click("#authorizationForm input[name=allow]")
    page.wait_for_selector("#demo-claims")
    album.shot("claims")
    album.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_phishing_resistant_request_offers_a_key_and_a_passkey_refusal_names_the_address(
    live_server, page, alice, demo, site_settings, width
):
    user, device = alice
    album = Album(page, "phr-and-passkey", width)
    page.goto(f"{live_server.url}/demo/")
    page.click("#demo-start-phr")
    log_in(page, album)
    page.wait_for_selector("#mfa-add-key")
    album.shot("offer-a-key")
    page.click("#mfa-add-key")
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", next_code(device))
    page.click("#mfa-verify")
    page.wait_for_selector("#mfa-continue-link")
    album.shot("security-with-continue")

    # The passkey button at the wrong address (127.0.0.1): the refusal names the right one.
    page.context.clear_cookies()
    wrong = live_server.url.replace("localhost", "127.0.0.1")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    page.goto(f"{wrong}/accounts/login/")
    page.wait_for_selector("#webauthn-passkey-start")
    page.click("#webauthn-passkey-start")
    status = page.locator("#webauthn-passkey [data-webauthn-status]")
    status.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('#webauthn-passkey [data-webauthn-status]').textContent.includes('localhost')"
    )
    assert f"{live_server.url}/" in status.text_content()
    album.shot("passkey-wrong-address")
    album.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_admin_pages(live_server, page, alice, demo, site_settings, width):
    user, _device = alice
    admin = get_user_model().objects.create_superuser("root", "root@example.com", ADMIN_PASSWORD)
    admin_device = TOTPDevice.objects.create(user=admin, name="admin phone", confirmed=True)
    lockout.claim_attempt(user)
    album = Album(page, "admin", width)
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", next_code(admin_device))
    page.click("#mfa-verify")
    page.wait_for_selector("#site-name")
    album.shot("index")
    index = page.text_content("#content-main")
    for wrong in ("(SHA-1/256/512)s", "Otp_", "OTP_", "Sms messages"):
        assert wrong not in index, wrong
    page.goto(f"{live_server.url}/admin/mfa-overview/")
    album.shot("overview")
    page.goto(f"{live_server.url}/admin/auth/user/{user.pk}/change/")
    page.wait_for_selector("#mfa-factors")
    album.shot("user-page")
    album.shot_of("#mfa-factors", "user-page-factors")
    page.goto(f"{live_server.url}/admin/mfa_oauth_audit/authevent/")
    page.wait_for_selector("#result_list")
    album.shot("audit-log")
    if width == 1280:
        # The audit table fits the page: no column is cut off behind a scroll bar.
        hidden = page.evaluate(
            "() => { const box = document.querySelector('#changelist .results');"
            " return box.scrollWidth - box.clientWidth; }"
        )
        assert hidden <= 0, hidden
    album.close()
