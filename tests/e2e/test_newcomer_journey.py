"""The newcomer's journey in a real browser: demo client -> login -> TOTP -> consent -> claims."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, totp_for

pytestmark = pytest.mark.browser


def test_newcomer_journey_ends_on_the_claims_page(live_server, page, user, totp_device, demo_client, artifacts):
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/demo/")
    page.screenshot(path=artifacts / "1-demo.png", full_page=True)
    page.click("#demo-start")

    page.wait_for_selector("#login-form")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.screenshot(path=artifacts / "2-login.png", full_page=True)
    page.click("#login-submit")

    page.wait_for_selector("#mfa-verify-form")
    # The login answers with the challenge page itself (mfa_oauth.oauth.after_login); it posts there.
    assert page.get_attribute("#mfa-verify-form", "action").startswith("/mfa/verify/")
    page.fill("#id_token", totp_for(totp_device).now())
    page.screenshot(path=artifacts / "3-totp.png", full_page=True)
    page.click("#mfa-verify")

    page.wait_for_selector("#authorizationForm")
    assert "Demo client" in page.text_content("#authorizationForm")
    page.screenshot(path=artifacts / "4-consent.png", full_page=True)
    page.click("#authorizationForm input[name=allow]")

    page.wait_for_selector("#demo-claims")
    assert page.url == f"{live_server.url}/demo/"
    page.screenshot(path=artifacts / "5-claims.png", full_page=True)
    amr = {value.strip() for value in page.text_content("#claim-amr").split(",")}
    assert {"pwd", "otp", "mfa"} <= amr
    assert page.text_content("#claim-acr").strip() == "urn:mfa_oauth:acr:mfa"
    assert page.text_content("#claim-sub").strip() == str(user.pk)
    assert page.locator("#demo-error").count() == 0
    # The strict CSP holds on every page of the journey: nothing was blocked.
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors


def test_a_wrong_code_is_explained_and_the_right_one_still_works(
    live_server, page, user, totp_device, demo_client, artifacts, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    page.goto(f"{live_server.url}/demo/start/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    good = totp_for(totp_device).now()
    page.fill("#id_token", "000000" if good != "000000" else "111111")
    page.click("#mfa-verify")
    page.wait_for_selector("#mfa-error")
    assert "did not work" in page.text_content("#mfa-error")
    page.screenshot(path=artifacts / "wrong-code.png", full_page=True)
    page.fill("#id_token", good)
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")
