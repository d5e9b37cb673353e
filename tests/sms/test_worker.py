"""SMS through a real Celery worker on the real Redis broker and the real twilio client, talking
HTTP to the local Twilio-shaped server (docs/security.md, "SMS delivery")."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from mfa_oauth.sms.delivery import EXPIRED
from mfa_oauth.sms.models import SMSMessage

from .conftest import (
    FROM_NUMBER,
    NUMBER,
    PUBLIC_BASE,
    ask_for_code,
    code_in,
    log_in,
    page_text,
    type_code,
    wait_until,
)
from .fake_twilio import Reply
from .oauth_helpers import authorize_url, code_from_redirect, redeem

pytestmark = [pytest.mark.redis, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def only_message() -> SMSMessage:
    return SMSMessage.objects.get()


def test_code_from_challenge_page_through_twilio_to_tokens(
    client, user, sms_device, make_application, twilio_settings, celery_worker
):
    fake = twilio_settings
    application = make_application(mfa_mode="always", skip_authorization=True)
    log_in(client, user)
    url, verifier, nonce = authorize_url(application.client_id)
    to_challenge = client.get(url)
    assert to_challenge.status_code == 302 and to_challenge["Location"].startswith("/mfa/verify/")
    challenge_url = to_challenge["Location"]

    page = client.post(challenge_url, {"device": sms_device.persistent_id, "action": "send"})
    celery_worker.start()
    assert page.status_code == 200
    assert "We sent a code to +1 ••• ••• 0123" in page_text(page)

    [request] = fake.wait_for_creates(1)
    message = wait_until(lambda: SMSMessage.objects.filter(status="sent").first())
    assert request.authorized
    assert request.form["To"] == NUMBER and request.form["From"] == FROM_NUMBER
    code = code_in(request.form["Body"])
    assert request.form["Body"] == f"{code} is your Example IdP code. It expires in 5 min. Never share it."
    assert 290 <= int(request.form["ValidityPeriod"]) <= 300
    assert request.form["StatusCallback"] == f"{PUBLIC_BASE}/mfa/sms/status/{message.pk}/"
    assert message.provider_sid.startswith("SM") and message.sealed_code == ""

    done = client.post(challenge_url, {"device": sms_device.persistent_id, "token": code})
    assert done.status_code == 303
    redirect = client.get(done["Location"])
    assert redirect.status_code == 302
    claims = redeem(client, application, code_from_redirect(redirect["Location"]), verifier, nonce)
    assert {"pwd", "sms", "mfa"} <= set(claims["amr"])
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa"
    assert len(fake.creates) == 1


def test_transient_errors_are_retried_with_the_same_code(client, user, sms_device, twilio_settings, celery_worker):
    fake = twilio_settings
    fake.script(Reply(429, code=20429), Reply(503, text="Service Unavailable"), 201)
    log_in(client, user)
    started = time.monotonic()
    assert ask_for_code(client, sms_device).status_code == 200
    celery_worker.start()
    requests = fake.wait_for_creates(3, timeout=20)
    wait_until(lambda: SMSMessage.objects.filter(status="sent").exists())
    elapsed = time.monotonic() - started
    assert len(fake.creates) == 3
    assert len({r.form["Body"] for r in requests}) == 1  # a retry resends the same code
    gaps = [b.at - a.at for a, b in zip(requests, requests[1:])]
    assert 0.9 <= gaps[0] <= gaps[1] <= 30  # jittered, non-decreasing, capped
    assert elapsed < 15
    message = only_message()
    assert message.attempts == 3 and message.status == "sent"
    # The delivered code works.
    assert type_code(client, sms_device, code_in(requests[-1].form["Body"])).status_code == 303
    time.sleep(0.5)
    assert len(fake.creates) == 3


def test_permanent_error_sends_once_and_the_page_says_why(client, user, sms_device, twilio_settings, celery_worker):
    fake = twilio_settings
    fake.script(Reply(400, code=21211))
    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 200
    celery_worker.start()
    fake.wait_for_creates(1)
    message = wait_until(lambda: SMSMessage.objects.filter(status="failed").first())
    assert message.error_code == 21211 and message.sealed_code == ""
    page = client.get("/mfa/verify/?next=/")
    assert "That phone number is not valid. Use another factor, or fix the number." in page_text(page)
    assert 'id="mfa-sms-problem"' in page_text(page)
    time.sleep(0.5)
    assert len(fake.creates) == 1


def test_the_same_task_twice_gives_one_request(user, sms_device, twilio_settings, redis_broker, client):
    fake = twilio_settings
    from mfa_oauth.sms.tasks import send_sms

    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 200  # published once (worker not running)
    message = only_message()
    send_sms.delay(message.pk)  # and a duplicate of the same id
    from .conftest import running_worker

    with running_worker(redis_broker):
        fake.wait_for_creates(1)
        wait_until(lambda: SMSMessage.objects.filter(status="sent").exists())
        time.sleep(0.5)
    assert len(fake.creates) == 1


def test_a_task_arriving_after_the_code_expired_sends_nothing(client, user, sms_device, twilio_settings, redis_broker):
    fake = twilio_settings
    from .conftest import running_worker

    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 200  # queued in Redis, no worker yet
    message = only_message()
    with time_machine.travel(message.expires_at + timedelta(seconds=1), tick=True):
        with running_worker(redis_broker):
            # Celery drops the expired message; the row is then closed by the sweep (or by the task
            # itself if it ran), never sent.
            import redis as redis_client

            conn = redis_client.Redis.from_url(redis_broker.conf.broker_url)
            wait_until(lambda: conn.llen("celery") == 0 and not conn.hlen("unacked"))
            time.sleep(0.3)
        from mfa_oauth.sms.delivery import sweep

        sweep()
        message.refresh_from_db()
        assert message.status == "failed" and message.error_message == EXPIRED
        page = client.get("/mfa/verify/?next=/")
        assert "The code expired before it could be sent. Ask for a new one" in page_text(page)
    assert fake.creates == []


def test_status_callback_marks_the_row_delivered(client, user, sms_device, twilio_settings, celery_worker):
    from twilio.request_validator import RequestValidator

    from .conftest import AUTH_TOKEN

    fake = twilio_settings
    log_in(client, user)
    ask_for_code(client, sms_device)
    celery_worker.start()
    fake.wait_for_creates(1)
    message = wait_until(lambda: SMSMessage.objects.filter(status="sent").first())
    url = f"{PUBLIC_BASE}/mfa/sms/status/{message.pk}/"
    params = {"MessageSid": message.provider_sid, "MessageStatus": "delivered", "AccountSid": fake.account_sid}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    response = client.post(f"/mfa/sms/status/{message.pk}/", params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered" and message.status_updated_at <= timezone.now()


def test_a_hanging_twilio_times_out_and_the_send_is_retried(
    client, user, sms_device, twilio_settings, mfa_settings, celery_worker
):
    # docs/security.md, "SMS delivery": every call has a time limit (the client's HTTP timeout), then a retry. The
    # request that timed out may have been accepted, so the retry asks Twilio first: one text.
    fake = twilio_settings
    mfa_settings(SMS_HTTP_TIMEOUT=1)
    fake.script(Reply(201, delay=2.5))
    log_in(client, user)
    ask_for_code(client, sms_device)
    celery_worker.start()
    message = wait_until(lambda: SMSMessage.objects.filter(status="sent").first())
    assert message.attempts == 2 and message.provider_sid == fake.messages[0]["sid"]
    assert len(fake.creates) == 1 and [r.method for r in fake.requests] == ["POST", "GET"]


def test_a_timeout_that_never_reached_twilio_is_sent_again(
    client, user, sms_device, twilio_settings, mfa_settings, celery_worker
):
    # The same timeout, but the slow request was not accepted (a 503 after the wait): the
    # retry finds nothing at Twilio and sends.
    fake = twilio_settings
    mfa_settings(SMS_HTTP_TIMEOUT=1)
    fake.script(Reply(503, delay=2.5, text="overloaded"))
    log_in(client, user)
    ask_for_code(client, sms_device)
    celery_worker.start()
    message = wait_until(lambda: SMSMessage.objects.filter(status="sent").first())
    assert len(fake.creates) == 2 and message.provider_sid == fake.messages[0]["sid"]
