"""The outbox's transaction rules and the Celery configuration the SMS path relies on."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from mfa_oauth.sms import service, tasks
from mfa_oauth.sms.models import SMSCode, SMSMessage

from .conftest import ask_for_code, code_in, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_is_published_when_the_transaction_rolls_back(user, sms_device, locmem_sms):
    # docs/security.md, "SMS delivery": the task is published on commit only.
    with pytest.raises(RuntimeError), transaction.atomic():
        service.queue_code(user=user, device=sms_device, purpose="login", attempt="a", client_ip=None)
        raise RuntimeError("the request failed after queueing")
    assert locmem_sms == [] and not SMSMessage.objects.exists() and not SMSCode.objects.exists()


def test_a_code_is_accepted_once_even_when_checked_twice(client, user, sms_device, locmem_sms):
    log_in(client, user)
    ask_for_code(client, sms_device)
    code = code_in(locmem_sms[0].body)
    attempt = client.session[service.ATTEMPT_SESSION_KEY]
    assert service.check_code(sms_device, attempt, code) is True
    assert service.check_code(sms_device, attempt, code) is False


def test_messaging_service_sid_instead_of_a_from_number(client, user, sms_device, twilio_settings, mfa_settings):
    mfa_settings(TWILIO_MESSAGING_SERVICE_SID="MG" + "7" * 32)
    log_in(client, user)
    ask_for_code(client, sms_device)
    [request] = twilio_settings.creates
    assert request.form["MessagingServiceSid"] == "MG" + "7" * 32 and "From" not in request.form


def test_celery_settings_for_reliable_delivery():
    # docs/security.md, "SMS delivery": late acks, re-queue on worker loss, one prefetched task, and a visibility
    # timeout above the longest a code lives plus the task's time limit.
    send = tasks.send_sms
    assert send.acks_late and send.reject_on_worker_lost and send.ignore_result
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 600 + tasks.TIME_LIMIT
    assert settings.CELERY_BEAT_SCHEDULE["mfa-oauth-sms-sweep"]["task"] == tasks.sweep_outbox.name
    assert settings.MFA_OAUTH.get("SMS_SENDING_LEASE", 60) > tasks.TIME_LIMIT
