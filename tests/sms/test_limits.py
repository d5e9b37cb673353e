"""Each limit refuses the next send before anything is queued, says when to try again, and the
fake Twilio sees no request for it (docs/security.md, "SMS delivery"). Celery eager, real twilio client."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from mfa_oauth.sms.models import SMSDevice, SMSMessage
from tests.conftest import PASSWORD

from .conftest import NUMBER, ask_for_code, log_in, page_text

pytestmark = pytest.mark.django_db(transaction=True)


def new_user(name: str, number: str = NUMBER) -> tuple:
    user = get_user_model().objects.create_user(name, f"{name}@example.com", PASSWORD)
    device = SMSDevice.objects.create(user=user, name="Phone", number=number, confirmed=True)
    client = Client()
    log_in(client, user)
    return client, device


def send(client, device, ip: str = "127.0.0.1"):
    return client.post("/mfa/verify/?next=/", {"device": device.persistent_id, "action": "send"}, REMOTE_ADDR=ip)


def test_cooldown_per_device(client, user, sms_device, twilio_settings):
    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 200
    refused = ask_for_code(client, sms_device)
    assert refused.status_code == 429
    assert "You can ask for another in 30 seconds" in page_text(refused)
    assert refused["Retry-After"] == "30"
    assert len(twilio_settings.creates) == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert ask_for_code(client, sms_device).status_code == 200
    assert len(twilio_settings.creates) == 2


def test_resend_storm_sends_one(client, user, sms_device, twilio_settings):
    log_in(client, user)
    statuses = [ask_for_code(client, sms_device).status_code for _ in range(25)]
    assert statuses.count(200) == 1 and statuses.count(429) == 24
    assert len(twilio_settings.creates) == 1
    assert SMSMessage.objects.count() == 1


def test_cap_per_number_per_hour_across_users(twilio_settings, mfa_settings, db):
    mfa_settings(SMS_COOLDOWN=0, SMS_MAX_PER_NUMBER_PER_HOUR=3)
    senders = [new_user(f"user{i}") for i in range(4)]
    for i, (client, device) in enumerate(senders[:3]):
        assert send(client, device, ip=f"10.0.0.{i}").status_code == 200
    client, device = senders[3]
    refused = send(client, device, ip="10.0.0.9")
    assert refused.status_code == 429
    assert "Too many codes were sent to this number. Try again in 60 minutes" in page_text(refused)
    assert len(twilio_settings.creates) == 3


def test_cap_per_user_per_day(client, user, sms_device, twilio_settings, mfa_settings):
    mfa_settings(SMS_COOLDOWN=0, SMS_MAX_PER_USER_PER_DAY=2)
    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 200
    assert ask_for_code(client, sms_device).status_code == 200
    refused = ask_for_code(client, sms_device)
    assert refused.status_code == 429
    assert "too many text messages today. Try again in 24 hours" in page_text(refused)
    assert len(twilio_settings.creates) == 2
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        log_in(client, user)  # a day later the session has passed its absolute lifetime
        assert ask_for_code(client, sms_device).status_code == 200
    assert len(twilio_settings.creates) == 3


def test_cap_per_client_ip_per_hour(twilio_settings, mfa_settings, db):
    mfa_settings(SMS_COOLDOWN=0, SMS_MAX_PER_IP_PER_HOUR=2)
    senders = [new_user(f"ip{i}", number=f"+1202555012{i}") for i in range(3)]
    assert send(*senders[0], ip="192.0.2.7").status_code == 200
    assert send(*senders[1], ip="192.0.2.7").status_code == 200
    refused = send(*senders[2], ip="192.0.2.7")
    assert refused.status_code == 429 and "from your network" in page_text(refused)
    assert send(*senders[2], ip="192.0.2.8").status_code == 200
    assert len(twilio_settings.creates) == 3


def test_global_budget_per_minute(twilio_settings, mfa_settings, db):
    mfa_settings(SMS_COOLDOWN=0, SMS_MAX_GLOBAL_PER_MINUTE=2)
    senders = [new_user(f"g{i}", number=f"+1202555013{i}") for i in range(3)]
    assert send(*senders[0], ip="198.51.100.1").status_code == 200
    assert send(*senders[1], ip="198.51.100.2").status_code == 200
    refused = send(*senders[2], ip="198.51.100.3")
    assert refused.status_code == 429 and "sending too many text messages right now" in page_text(refused)
    assert len(twilio_settings.creates) == 2
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert send(*senders[2], ip="198.51.100.3").status_code == 200
    assert len(twilio_settings.creates) == 3


def test_country_allow_list_applies_to_existing_numbers(client, user, twilio_settings, mfa_settings):
    # A French number registered before the deployment restricted the countries.
    device = SMSDevice.objects.create(user=user, name="FR", number="+33612345678", confirmed=True)
    log_in(client, user)
    refused = ask_for_code(client, device)
    assert refused.status_code == 429 and "cannot send text messages to that country" in page_text(refused)
    assert twilio_settings.creates == [] and not SMSMessage.objects.exists()


def test_limits_count_rows_in_the_database_not_process_memory(client, user, sms_device, twilio_settings):
    # Another web process sent a code a moment ago: its row is all this process knows of it.
    now = timezone.now()
    SMSMessage.objects.create(user=user, device=sms_device, to=sms_device.number, created_at=now, expires_at=now)
    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 429
    assert twilio_settings.creates == []
