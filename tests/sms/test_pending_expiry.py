"""SMS and the half-authenticated state's limit (docs/security.md, "The half-authenticated state"):
past PENDING_MFA_TIMEOUT no text goes out for the challenge, a code sent in time no longer completes
the sign-in, and a number added by a password-only session does not upgrade it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import SESSION_KEY
from mfa_oauth.sms.models import SMSDevice, SMSMessage

from .conftest import ask_for_code, code_in, log_in, type_code

pytestmark = pytest.mark.django_db(transaction=True)
START = "2026-03-01 12:00:00Z"
NEXT = "/o/authorize/?client_id=rp"


def _assert_restarted(client, response) -> None:
    assert response.status_code in (302, 303), response.content.decode()[:500]
    location = urlparse(response["Location"])
    assert location.path == "/accounts/login/" and parse_qs(location.query)["next"] == [NEXT]
    assert "_auth_user_id" not in client.session and SESSION_KEY not in client.session
    assert "took too long" in client.get(response["Location"]).content.decode()


def test_no_text_is_sent_for_an_expired_session(client, user, sms_device, locmem_sms):
    with time_machine.travel(START, tick=False) as traveller:
        log_in(client, user)
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT + 1)
        _assert_restarted(client, ask_for_code(client, sms_device, NEXT))
    assert locmem_sms == [] and not SMSMessage.objects.exists()


def test_a_code_sent_in_time_and_typed_after_the_limit_records_nothing(client, user, sms_device, locmem_sms):
    with time_machine.travel(START, tick=False) as traveller:
        log_in(client, user)
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT - 200)
        assert ask_for_code(client, sms_device, NEXT).status_code == 200
        code = code_in(locmem_sms[0].body)
        traveller.shift(201)  # the code is still valid (SMS_CODE_VALIDITY), the session no longer
        _assert_restarted(client, type_code(client, sms_device, code, NEXT))


def test_a_number_added_after_the_limit_does_not_upgrade_the_session(client, user, locmem_sms, settings):
    settings.OTP_SMS_THROTTLE_FACTOR = 0
    add = f"/mfa/sms/add/?next={NEXT}"
    with time_machine.travel(START, tick=False) as traveller:
        log_in(client, user)
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT - 100)
        assert client.post(add, {"number": "+1 202 555 0123", "action": "send"}).status_code == 200
        code = code_in(locmem_sms[0].body)
        traveller.shift(101)
        _assert_restarted(client, client.post(add, {"token": code, "action": "verify"}))
    assert not SMSDevice.objects.exists()  # nothing half-added stays behind
