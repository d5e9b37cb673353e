"""Headless Chromium with a CDP virtual authenticator (ctap2, internal transport, user verification
on): register a platform authenticator on our page, then complete a real OAuth authorization
through the /demo/ relying party with it; and sign in with the passkey alone. The demo client
verifies the id_token against the JWKS and shows its acr/amr, which the tests assert."""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.webauthn.models import WebAuthnCredential
from tests.conftest import PASSWORD, create_demo_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, webauthn_settings, transactional_db):
    """The live server as WebAuthn's relying party, alice, and the demo client (policy "always")."""
    webauthn_settings.MFA_OAUTH = {**webauthn_settings.MFA_OAUTH, "WEBAUTHN_ORIGINS": [live_server.url]}
    get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)
    create_demo_client(live_server.url, get_user_model().objects.create_user("owner"))
    return live_server.url


@pytest.fixture
def virtual_authenticator(page):
    """A platform authenticator with a PIN/biometric (RECIPES §3.1)."""
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
    authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    yield cdp, authenticator_id
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})


def password_login(page, base: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")


def register_platform_authenticator(page, base: str, artifacts, virtual_authenticator) -> WebAuthnCredential:
    password_login(page, base, "/mfa/webauthn/")
    expect(page.locator("h1")).to_have_text("Security keys and passkeys")
    page.screenshot(path=artifacts / "01-register-page.png")
    page.fill("#webauthn-name", "This laptop")
    page.click("#webauthn-add")
    # A registration proves nothing signed, so the new key is asked for once to confirm it.
    expect(page).to_have_url(re.compile(r"/mfa/verify/"))
    page.screenshot(path=artifacts / "02-confirm-new-key.png")
    page.click(".webauthn-use")
    expect(page.locator("#webauthn-credentials")).to_contain_text("This laptop")
    page.screenshot(path=artifacts / "02b-registered.png")
    cdp, authenticator_id = virtual_authenticator
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]
    device = WebAuthnCredential.objects.get()
    assert device.user.username == "alice" and device.user_verifying and not device.backup_eligible
    assert device.discoverable is True and not device.attestation_verified
    # Start the OAuth part from a browser that is signed out, with the authenticator still attached.
    page.context.clear_cookies()
    return device


def test_register_then_authorize_through_demo_with_the_key(site, page, artifacts, virtual_authenticator):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    device = register_platform_authenticator(page, site, artifacts, virtual_authenticator)

    page.goto(f"{site}/demo/")
    page.click("#demo-start-phr")  # acr_values=phr
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    # The login answers with the challenge page itself (mfa_oauth.oauth.after_login), at level 2.
    expect(page.locator("form.mfa-webauthn").first).to_have_attribute("data-level", "2")
    page.screenshot(path=artifacts / "03-challenge.png")
    page.click(".webauthn-use")
    expect(page.locator("#authorizationForm")).to_be_visible()
    page.screenshot(path=artifacts / "04-consent.png")
    page.click("input[name=allow]")
    # A virtual (software) authenticator, no attestation anchor installed: phr and swk, never the
    # hardware level its flags alone would suggest (docs/security.md).
    expect(page.locator("#claim-acr")).to_have_text("phr")
    expect(page.locator("#claim-amr")).to_have_text("pwd, swk, pop, user, mfa")
    page.screenshot(path=artifacts / "05-demo-claims.png")
    device.refresh_from_db()
    assert device.sign_count >= 1 and device.last_used_at is not None
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_sign_in_with_the_passkey_alone(site, page, artifacts, virtual_authenticator):
    register_platform_authenticator(page, site, artifacts, virtual_authenticator)
    page.goto(f"{site}/demo/")
    page.click("#demo-start")
    expect(page.locator("#webauthn-passkey-start")).to_be_visible()
    page.screenshot(path=artifacts / "03-login-with-passkey-button.png")
    page.click("#webauthn-passkey-start")  # no user name, no password
    expect(page.locator("#authorizationForm")).to_be_visible()
    page.click("input[name=allow]")
    expect(page.locator("#claim-acr")).to_have_text("phr")
    expect(page.locator("#claim-amr")).to_have_text("swk, pop, user, mfa")
    page.screenshot(path=artifacts / "04-demo-claims-passkey.png")


def test_with_anchors_installed_the_browser_is_asked_for_attestation(
    site, page, artifacts, virtual_authenticator, vendor, install_roots
):
    # Registration now asks for "direct" attestation; Chromium's virtual authenticator answers with
    # its own test certificate, which chains to no installed anchor: registered, as a software key.
    install_roots(vendor)
    device = register_platform_authenticator(page, site, artifacts, virtual_authenticator)
    assert device.attestation_format != "none" and not device.attestation_verified
    assert device.mfa_method.level == 2


def test_a_key_used_after_the_half_signed_in_limit_sends_the_browser_back_to_the_login(
    site, page, artifacts, virtual_authenticator
):
    """docs/security.md, "The half-authenticated state": the script follows the 401 to the login,
    which says why, and the key's counter is untouched."""
    device = register_platform_authenticator(page, site, artifacts, virtual_authenticator)
    count = WebAuthnCredential.objects.get(pk=device.pk).sign_count
    password_login(page, site, "/account/security/")
    expect(page).to_have_url(re.compile(r"/mfa/verify/"))
    # The server's clock (the live server runs in this process) moves past the limit; the page stays.
    with time_machine.travel(time.time() + mfa_settings.PENDING_MFA_TIMEOUT + 1, tick=True):
        page.click(".webauthn-use")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Faccount%2Fsecurity%2F$"))
        expect(page.locator("[data-message]")).to_contain_text("took too long")
        page.screenshot(path=artifacts / "03-back-to-login.png")
    assert WebAuthnCredential.objects.get(pk=device.pk).sign_count == count
