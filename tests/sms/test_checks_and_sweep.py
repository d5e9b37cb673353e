"""System checks for the gateway settings, and the sweep's bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from mfa_oauth.sms.checks import check_sms_settings
from mfa_oauth.sms.delivery import EXPIRED, deliver, sweep
from mfa_oauth.sms.models import SMSMessage


def ids(mfa_settings, **values) -> set[str]:
    mfa_settings(**values)
    return {message.id for message in check_sms_settings(None)}


def test_twilio_without_credentials_or_sender_is_an_error(mfa_settings):
    found = ids(mfa_settings, SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="", TWILIO_FROM_NUMBER="")
    assert {"mfa_oauth_sms.E002", "mfa_oauth_sms.E003", "mfa_oauth_sms.W001"} <= found


def test_console_default_and_a_complete_twilio_setup_are_clean(mfa_settings):
    assert ids(mfa_settings, SMS_BACKEND="console") == set()
    complete = {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
        "SMS_PUBLIC_BASE_URL": "https://idp.example.com",
    }
    assert ids(mfa_settings, **complete) == set()


def test_bad_backend_and_validity(mfa_settings):
    assert {"mfa_oauth_sms.E001", "mfa_oauth_sms.E004"} <= ids(
        mfa_settings, SMS_BACKEND="pigeon", SMS_CODE_VALIDITY=3600
    )


def test_deploy_check_warns_about_a_gateway_that_does_not_send(mfa_settings):
    from mfa_oauth.sms.checks import check_sms_deploy

    mfa_settings(SMS_BACKEND="console")
    assert [m.id for m in check_sms_deploy(None)] == ["mfa_oauth_sms.W004"]
    mfa_settings(SMS_ENABLED=False)
    assert check_sms_deploy(None) == []


def test_manage_check_reports_it(mfa_settings):
    from django.core.management.base import SystemCheckError

    mfa_settings(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="")
    with pytest.raises(SystemCheckError, match="mfa_oauth_sms.E002"):
        call_command("check")


@pytest.mark.django_db(transaction=True)
def test_sweep_expires_stale_rows_and_leaves_young_ones(user, sms_device, locmem_sms):
    now = timezone.now()

    def row(**fields):
        defaults = {"user": user, "device": sms_device, "to": sms_device.number, "purpose": "test"}
        return SMSMessage.objects.create(**{**defaults, **fields})

    stale = row(created_at=now - timedelta(minutes=6), expires_at=now - timedelta(minutes=1), sealed_code="x")
    young = row(created_at=now, expires_at=now + timedelta(minutes=5), next_attempt_at=now)
    stuck = row(created_at=now - timedelta(minutes=1), expires_at=now + timedelta(minutes=4),
                next_attempt_at=now - timedelta(minutes=1))  # fmt: skip
    counts = sweep()
    assert counts == {"expired": 1, "requeued": 1, "broker_down": 0}
    stale.refresh_from_db()
    young.refresh_from_db()
    stuck.refresh_from_db()
    assert (stale.status, stale.error_message, stale.sealed_code) == ("failed", EXPIRED, "")
    assert young.status == "queued"
    assert stuck.status == "sent"  # eager Celery: the re-enqueued task ran
    assert len(locmem_sms) == 1
    # A second run of the same task finds nothing to do.
    assert deliver(stuck.pk).status == "done" and len(locmem_sms) == 1
