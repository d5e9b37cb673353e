"""The third-party finance app (/demo/finance/) in a real browser, as seed_demo sets it up: the app
pushes its request (PAR + private_key_jwt + DPoP + RFC 9396 details), the demo user signs in, passes
TOTP, unticks one of two accounts at consent, and the app reads only the other one with DPoP proofs."""

from __future__ import annotations

import base64
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.core.management import call_command
from oauth2_provider.models import get_application_model

from idp_site.api.bank import accounts_of
from idp_site.management.commands.seed_demo import DEMO_TOTP_KEY_HEX, DEMO_USER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(live_server, settings, tmp_path):
    """``manage.py seed_demo --base-url <live server>``, its finance app key in a scratch folder."""
    settings.DEMO_FINANCE_STATE_FILE = tmp_path / "demo-finance-app.json"
    call_command("seed_demo", "--base-url", live_server.url, "--quiet", stdout=StringIO())
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=DEMO_USER[0])


def demo_totp() -> pyotp.TOTP:
    """The published demo secret, the way a newcomer's authenticator app reads it."""
    return pyotp.TOTP(base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode())


def connect(page, live_server, artifacts, untick: str | None, button: str = "allow") -> None:
    """From the finance app's page through login, TOTP and consent back to the app."""
    authorize: list[str] = []
    page.on("request", lambda r: authorize.append(r.url) if "/o/authorize/" in r.url else None)
    visited: list[str] = []
    page.on("request", lambda r: visited.append(r.url) if r.resource_type == "document" else None)
    page.goto(f"{live_server.url}/demo/finance/")
    page.screenshot(path=artifacts / "1-finance-app.png", full_page=True)
    page.click("#finance-connect")

    page.wait_for_selector("#login-form")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    # The app sends the browser with only client_id and request_uri (RFC 9126 §4).
    query = parse_qs(urlsplit(authorize[0]).query)
    assert set(query) == {"client_id", "request_uri"} and query["client_id"] == ["demo-finance-app"]
    page.fill("#id_username", DEMO_USER[0])
    page.fill("#id_password", DEMO_USER[1])
    page.click("#login-submit")

    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", demo_totp().now())
    page.click("#mfa-verify")

    page.wait_for_selector("#authorizationForm")
    assert "A third-party finance app" in page.text_content("#authorizationForm")
    boxes = page.locator("#authorization-details input[name=authorization_details_account]")
    assert boxes.count() == 2
    if untick:
        page.uncheck(f"#authorization-details input[value='0:{untick}']")
    page.screenshot(path=artifacts / "2-consent.png", full_page=True)
    if button != "allow":
        page.click("#authorizationForm input[value=Cancel]")
        return
    page.click("#authorizationForm input[name=allow]")
    page.wait_for_selector("#finance-token-type")
    assert page.url == f"{live_server.url}/demo/finance/"
    # And the IdP keeps it that way (RFC 9126 §1): none of its own pages and redirects after the first
    # authorize URL (login next, second factor, back to /o/authorize/, the consent POST) shows the request.
    idp_pages = [url for url in visited[visited.index(authorize[0]) + 1 :] if "/demo/finance/" not in url]
    assert idp_pages, visited
    for url in idp_pages:
        for name in ("authorization_details", "code_challenge", "redirect_uri", "scope"):
            assert name not in url, (name, url)


def test_the_app_reads_only_the_account_left_ticked(live_server, page, seeded, artifacts):
    current, savings = accounts_of(seeded)
    profile = get_application_model().objects.get(client_id="demo-finance-app").mfa_security
    assert profile.token_endpoint_auth_method == "private_key_jwt" and profile.require_pushed_authorization_requests
    # http on localhost: not under the FAPI switch (https redirect URIs only), and the page says so.
    assert profile.fapi2_security_profile is False
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    connect(page, live_server, artifacts, untick=savings.id)
    page.screenshot(path=artifacts / "3-accounts.png", full_page=True)

    assert page.text_content("#finance-token-type").strip() == "DPoP"
    assert page.locator(".finance-account").count() == 1
    shown = page.locator(f"#finance-account-{current.id}")
    assert shown.count() == 1 and "•••• 0001" in shown.text_content()
    assert shown.locator(".finance-transactions tbody tr").count() == 3
    assert "Grocery store" in shown.text_content()
    assert page.locator(f"#finance-account-{savings.id}").count() == 0
    assert "•••• 0002" in page.text_content("#finance-not-shared")
    assert savings.id not in page.text_content("#finance-granted")
    assert "https" in page.text_content("#finance-profile")
    assert page.locator("#finance-error").count() == 0
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors


def test_the_token_without_the_apps_key_is_refused_and_the_code_works_once(live_server, page, seeded, artifacts):
    connect(page, live_server, artifacts, untick=None)
    assert page.locator(".finance-account").count() == 2

    # The same access token sent as a plain Bearer token, without a DPoP proof: RFC 9449 §7.1.
    page.click("#finance-without-key")
    page.wait_for_selector("#finance-without-key-status")
    page.screenshot(path=artifacts / "4-without-key.png", full_page=True)
    assert page.text_content("#finance-without-key-status").strip() == "401"
    assert page.text_content("#finance-without-key-challenge").startswith("DPoP ")

    # With its key the app still reads: a fresh proof per call.
    page.click("#finance-read")
    page.wait_for_selector(".finance-account")
    assert page.locator(".finance-account").count() == 2


def test_a_replayed_callback_is_refused(live_server, page, seeded, artifacts):
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/demo/finance/callback/" in r.url else None)
    connect(page, live_server, artifacts, untick=None)
    assert len(callbacks) == 1
    page.goto(callbacks[0])
    page.wait_for_selector("#finance-error")
    assert "started no connection" in page.text_content("#finance-error")


def test_cancel_at_consent_is_said_and_reads_nothing(live_server, page, seeded, artifacts):
    connect(page, live_server, artifacts, untick=None, button="cancel")
    page.wait_for_selector("#finance-error")
    page.screenshot(path=artifacts / "3-cancelled.png", full_page=True)
    assert "access_denied" in page.text_content("#finance-error")
    assert page.locator(".finance-account").count() == 0 and page.locator("#finance-token-type").count() == 0
