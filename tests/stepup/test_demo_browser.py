"""A person's view of step-up: headless Chromium drives /demo/ against the live site.

The demo client signs in (password + TOTP), reads the balance, is refused by /api/transfer five
minutes later with the RFC 9470 challenge, follows the "Step up" link (a new authorization with
the challenge's acr_values and max_age) and then succeeds.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model

from mfa_oauth.models import ClientPolicy
from tests.conftest import PASSWORD, totp_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_client(live_server):
    Application = get_application_model()
    admin = get_user_model().objects.create_user("demo-admin")
    app = Application.objects.create(
        client_id=settings.DEMO_CLIENT_ID,
        client_secret=settings.DEMO_CLIENT_SECRET,
        name="Demo client",
        user=admin,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{live_server.url}/demo/callback/",
        algorithm=Application.RS256_ALGORITHM,
    )
    ClientPolicy.objects.create(application=app, mfa_mode="always")
    return app


def sign_in(page, totp_device):
    page.wait_for_selector("#login-form")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    page.fill("#id_token", totp_for(totp_device).now())
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")
    page.click("input[name=allow]")
    page.wait_for_selector("#demo-claims")


def test_watch_the_demo_get_refused_step_up_and_succeed(live_server, page, demo_client, totp_device, clock, artifacts):
    page.goto(f"{live_server.url}/demo/")
    page.click("#demo-start")
    sign_in(page, totp_device)
    assert page.text_content("#claim-acr") == "urn:mfa_oauth:acr:mfa"
    first_auth_time = page.text_content("#claim-auth-time")

    page.click("#demo-api-balance")
    page.wait_for_selector("#demo-api-status")
    assert page.text_content("#demo-api-status") == "200"

    clock.shift(360)  # the second factor is now older than the transfer's 5 minutes
    page.click("#demo-api-transfer")
    page.wait_for_selector("#demo-step-up")
    assert page.text_content("#demo-api-status") == "401"
    assert page.text_content("#demo-api-challenge") == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A stronger or more recent authentication is required", '
        'acr_values="phr urn:mfa_oauth:acr:mfa", max_age="300"'
    )
    page.screenshot(path=artifacts / "1-refused.png", full_page=True)

    page.click("#demo-step-up")
    sign_in(page, totp_device)  # max_age forced a fresh password and second factor
    assert page.text_content("#claim-auth-time") != first_auth_time
    page.click("#demo-api-transfer")
    page.wait_for_selector("#demo-api-status")
    assert page.text_content("#demo-api-status") == "200"
    assert '"status": "accepted"' in page.text_content("#demo-api-body")
    page.screenshot(path=artifacts / "2-accepted.png", full_page=True)
