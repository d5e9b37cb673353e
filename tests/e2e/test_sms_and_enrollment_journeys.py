"""Two more journeys in a real browser:

- SMS: bob signs in through /demo/, presses "Send me a code"; a real Celery worker on the real
  Redis broker sends it through the real ``twilio`` client to the local Twilio-shaped server; the
  test reads the code there, types it, consents, and sees amr ``pwd, sms, mfa`` on /demo/.
- Enrollment: a user without a factor adds an authenticator app on the security page (code from
  pyotp), then signs in afresh through /demo/ with it.
"""

from __future__ import annotations

import base64
import time

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.sms.models import SMSDevice, SMSMessage
from tests.conftest import PASSWORD
from tests.services import require_redis
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, celery_broker, running_worker, twilio_overrides
from tests.sms.fake_twilio import FakeTwilio

pytestmark = pytest.mark.browser

BROKER_DB = 11  # this module's own Redis database
BOB_NUMBER = "+12025550123"


def claims_amr(page) -> set[str]:
    return {value.strip() for value in page.text_content("#claim-amr").split(",")}


def csp_errors(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


# --- SMS: the code travels live_server -> Redis -> worker -> twilio client -> fake Twilio ----------
@pytest.fixture
def fake_twilio(settings):
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, **twilio_overrides(server.url)}
    yield server
    server.stop()


@pytest.fixture
def redis_celery(shared_memory_db_tolerates_threads):
    """The site's Celery app on the real Redis broker (not eager), our database emptied first."""
    import redis

    broker = require_redis(BROKER_DB)
    redis.Redis.from_url(broker).flushdb()
    with celery_broker(broker) as app:
        yield app
    redis.Redis.from_url(broker).flushdb()


@pytest.fixture
def bob(db):
    bob = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    SMSDevice.objects.create(user=bob, name="Demo phone", number=BOB_NUMBER, confirmed=True)
    return bob


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OperationalError:  # shared-cache SQLite: "table is locked" while the worker writes
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_sms_journey_with_a_real_worker_and_twilio(
    live_server, page, bob, demo_client, fake_twilio, redis_celery, artifacts
):
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/demo/")
    page.click("#demo-start")
    page.wait_for_selector("#login-form")
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")

    # The login answers with the challenge page itself (mfa_oauth.oauth.after_login); before a code was
    # sent it offers only "Send me a code" (no code field, no Verify).
    page.wait_for_selector("#mfa-send-form")
    assert page.query_selector("#mfa-verify-form") is None
    assert "+1 ••• ••• 0123" in page.text_content("#mfa-send-form")
    page.screenshot(path=artifacts / "1-challenge.png", full_page=True)
    page.click("#mfa-send")
    page.wait_for_selector("#mfa-info")
    assert "We sent a code to +1 ••• ••• 0123" in page.text_content("#mfa-info")
    page.screenshot(path=artifacts / "2-code-sent.png", full_page=True)

    # The request only queued the outbox row and published its id; the worker does the sending.
    # It starts now, once the web request's writes are over: the in-memory SQLite test database
    # fails at once on a concurrent write lock instead of waiting (see tests/sms/conftest.py).
    assert fake_twilio.creates == []
    with running_worker(redis_celery):
        [request] = fake_twilio.wait_for_creates(1, timeout=20)
        wait_for(lambda: SMSMessage.objects.filter(status="sent").exists())
        assert request.authorized
        assert request.form["To"] == BOB_NUMBER and request.form["From"] == FROM_NUMBER
        code = request.form["Body"].split()[0]
        assert code.isdigit() and len(code) == 6
        assert request.form["Body"] == f"{code} is your Example IdP code. It expires in 5 min. Never share it."

        page.fill("#id_token", code)
        page.click("#mfa-verify")
        page.wait_for_selector("#authorizationForm")
        page.screenshot(path=artifacts / "3-consent.png", full_page=True)
        page.click("#authorizationForm input[name=allow]")

        page.wait_for_selector("#demo-claims")
    assert page.url == f"{live_server.url}/demo/"
    page.screenshot(path=artifacts / "4-claims.png", full_page=True)
    assert claims_amr(page) == {"pwd", "sms", "mfa"}
    assert page.text_content("#claim-acr").strip() == "urn:mfa_oauth:acr:mfa"
    assert page.text_content("#claim-sub").strip() == str(bob.pk)
    assert page.locator("#demo-error").count() == 0
    assert len(fake_twilio.creates) == 1
    assert not csp_errors(console), console


# --- enrollment on the security page, then a fresh sign-in with the new factor ---------------------
def test_enroll_totp_on_the_security_page_then_sign_in_with_it(live_server, page, user, demo_client, artifacts):
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/account/security/")
    page.wait_for_selector("#login-form")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")

    page.wait_for_selector("#mfa-no-factors")
    assert page.url == f"{live_server.url}/account/security/"
    page.screenshot(path=artifacts / "1-security-empty.png", full_page=True)
    page.click("#add-totp")

    page.wait_for_selector("#mfa-enroll-form")
    assert page.locator("#mfa-qr svg").count() == 1
    secret = page.text_content("#mfa-secret").strip()
    totp = pyotp.TOTP(secret)
    page.screenshot(path=artifacts / "2-enroll-totp.png", full_page=True)
    page.fill("#id_token", totp.now())
    page.click("#mfa-confirm")

    page.wait_for_selector("#mfa-factors article[data-method=totp]")
    assert page.url == f"{live_server.url}/account/security/"
    page.screenshot(path=artifacts / "3-security-with-totp.png", full_page=True)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert base64.b32encode(device.bin_key).decode().rstrip("=") == secret.rstrip("=")

    # A new sign-in (no cookies) through the demo client, answered with the enrolled app.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/demo/")
    page.click("#demo-start")
    page.wait_for_selector("#login-form")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#mfa-verify-form")
    # The enrollment used this time step's code (single use); the next step's is accepted too.
    device.refresh_from_db()
    page.fill("#id_token", totp.at(max(time.time(), (device.last_t + 1) * 30)))
    page.click("#mfa-verify")
    page.wait_for_selector("#authorizationForm")
    page.click("#authorizationForm input[name=allow]")

    page.wait_for_selector("#demo-claims")
    page.screenshot(path=artifacts / "4-claims.png", full_page=True)
    assert {"pwd", "otp", "mfa"} <= claims_amr(page)
    assert page.text_content("#claim-acr").strip() == "urn:mfa_oauth:acr:mfa"
    assert page.text_content("#claim-sub").strip() == str(user.pk)
    assert not csp_errors(console), console
