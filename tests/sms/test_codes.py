"""Codes: 6 random digits, hashed, 5 minutes, single use, bound to the login attempt, replaced by a
resend without resetting the failure count (docs/security.md, "Second-factor lockout"). Celery eager,
in-memory gateway."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from mfa_oauth import lockout
from mfa_oauth.sms.models import SMSCode, SMSMessage

from .conftest import ask_for_code, code_in, log_in, page_text, type_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_code_is_six_digits_hashed_and_the_body_holds_only_code_and_site(client, user, sms_device, locmem_sms):
    log_in(client, user)
    assert ask_for_code(client, sms_device).status_code == 200
    [sms] = locmem_sms
    code = code_in(sms.body)
    assert len(code) == 6 and code.isdigit()
    assert sms.body == f"{code} is your Example IdP code. It expires in 5 min. Never share it."
    assert sms.validity_seconds <= 300
    row = SMSCode.objects.get()
    assert code not in (row.digest, row.salt) and len(row.digest) == 64
    assert SMSMessage.objects.get().sealed_code == ""  # wiped once sent
    assert (row.expires_at - row.created_at) == timedelta(seconds=300)


def test_code_works_once_and_earns_sms_amr(client, user, sms_device, locmem_sms):
    log_in(client, user)
    ask_for_code(client, sms_device)
    code = code_in(locmem_sms[0].body)
    assert type_code(client, sms_device, code).status_code == 303
    context = client.session["mfa_oauth.context"]
    assert "sms" in str(context)
    again = type_code(client, sms_device, code)
    assert again.status_code == 200 and "That code did not work" in page_text(again)


def test_code_expires_after_its_validity(client, user, sms_device, locmem_sms):
    log_in(client, user)
    ask_for_code(client, sms_device)
    code = code_in(locmem_sms[0].body)
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        response = type_code(client, sms_device, code)
    assert response.status_code == 200 and "That code did not work" in page_text(response)


def test_validity_is_capped_at_ten_minutes(client, user, sms_device, locmem_sms, mfa_settings):
    mfa_settings(SMS_CODE_VALIDITY=3600)
    log_in(client, user)
    ask_for_code(client, sms_device)
    row = SMSCode.objects.get()
    assert row.expires_at - row.created_at == timedelta(seconds=600)


def test_code_from_another_login_session_is_refused(user, sms_device, locmem_sms):
    first, second = Client(), Client()
    log_in(first, user)
    log_in(second, user)
    ask_for_code(first, sms_device)
    code = code_in(locmem_sms[0].body)
    refused = type_code(second, sms_device, code)
    assert refused.status_code == 200 and "That code did not work" in page_text(refused)
    sms_device.refresh_from_db()
    sms_device.throttle_reset()
    assert type_code(first, sms_device, code).status_code == 303


def test_resend_invalidates_the_old_code_but_not_the_failure_count(client, user, sms_device, locmem_sms, settings):
    settings.OTP_SMS_THROTTLE_FACTOR = 0
    log_in(client, user)
    ask_for_code(client, sms_device)
    old = code_in(locmem_sms[0].body)
    for wrong in ("000000", "111111"):
        if wrong != old:
            type_code(client, sms_device, wrong)
    failures = lockout.failure_count(user)
    assert failures >= 1
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert ask_for_code(client, sms_device).status_code == 200
        new = code_in(locmem_sms[1].body)
        # A resend resets nothing (docs/security.md, "Second-factor lockout").
        assert lockout.failure_count(user) == failures
        if old != new:
            assert type_code(client, sms_device, old).status_code == 200
        assert type_code(client, sms_device, new).status_code == 303


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "", "12 34 5"])
def test_codes_of_the_wrong_shape_get_a_clear_message(client, user, sms_device, locmem_sms, typed):
    log_in(client, user)
    ask_for_code(client, sms_device)
    response = type_code(client, sms_device, typed)
    assert response.status_code == 200
    assert "does not look like a code" in page_text(response)


def test_logs_never_contain_the_code(client, user, sms_device, twilio_settings, caplog):
    caplog.set_level(logging.DEBUG)
    log_in(client, user)
    ask_for_code(client, sms_device)  # eager Celery: sent through the real twilio client inline
    [request] = twilio_settings.creates
    code = code_in(request.form["Body"])
    type_code(client, sms_device, code)
    assert SMSMessage.objects.get().status == "sent"
    assert caplog.records, "expected the send to be logged"
    assert code not in caplog.text
    assert "+12025550123" not in caplog.text  # numbers are masked in logs
    assert twilio_settings.auth_token not in caplog.text


def test_sms_disabled_for_a_deployment(client, user, sms_device, locmem_sms, mfa_settings):
    mfa_settings(SMS_ENABLED=False)
    log_in(client, user)
    response = ask_for_code(client, sms_device)
    assert response.status_code == 429 and "turned off" in page_text(response)
    assert locmem_sms == [] and not SMSMessage.objects.exists()


def test_wrong_sms_codes_count_toward_the_account_lockout(client, user, sms_device, locmem_sms, settings):
    # docs/security.md, "Second-factor lockout": the per-account cap covers SMS codes, and resends do not reset it.
    settings.OTP_SMS_THROTTLE_FACTOR = 0
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 3, "SMS_COOLDOWN": 0}
    log_in(client, user)
    for _ in range(3):
        ask_for_code(client, sms_device)
        code = code_in(locmem_sms[-1].body)
        type_code(client, sms_device, "000000" if code != "000000" else "111111")
    ask_for_code(client, sms_device)
    locked = type_code(client, sms_device, code_in(locmem_sms[-1].body))
    assert locked.status_code == 403 and lockout.is_locked(user)
    sent = len(locmem_sms)
    refused = ask_for_code(client, sms_device)
    assert refused.status_code == 429 and "No code was sent" in page_text(refused)
    assert len(locmem_sms) == sent
