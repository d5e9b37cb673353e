"""Adding a number: validated with phonenumbers, risk notice first, usable only once a code sent
to it came back, fresh second factor when the user already has one (docs/security.md, "Freshness"
and "SMS delivery")."""

from __future__ import annotations

import pytest

from mfa_oauth.sms import phone
from mfa_oauth.sms.models import SMSDevice, SMSMessage

from .conftest import code_in, log_in, page_text

pytestmark = pytest.mark.django_db(transaction=True)
ADD = "/mfa/sms/add/?next=/"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("call me maybe", "That is not a phone number"),
        ("", "Enter a phone number"),
        ("+1 202", "incomplete or does not exist"),
        ("12025550123", "That is not a phone number"),  # no +country: ambiguous
        ("+1 900 555 1234", "(premium-rate)"),
        ("+44 20 7946 0000", "(landline)"),
        ("+1 800 555 0199", "(toll-free)"),
        ("+33 6 12 34 56 78", "numbers in that country (FR)"),
        ("+" + "9" * 40, "Enter a phone number"),
    ],
)
def test_bad_numbers_get_a_clear_message_and_nothing_is_created(client, user, locmem_sms, raw, message):
    log_in(client, user)
    response = client.post(ADD, {"number": raw, "action": "send"})
    assert response.status_code == 400
    assert message in page_text(response)
    assert not SMSDevice.objects.exists() and not SMSMessage.objects.exists() and locmem_sms == []


def test_mask_keeps_country_code_and_last_four():
    assert phone.mask("+12025550123") == "+1 ••• ••• 0123"
    assert phone.mask("+447911123456") == "+44 •••• ••3456"
    assert phone.to_e164(" +1 (202) 555-0123 ") == "+12025550123"


def test_risk_notice_with_links_to_stronger_factors(client, user):
    log_in(client, user)
    page = client.get(ADD)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    text = page_text(page)
    assert 'id="mfa-sms-risk"' in text and "weakest second factor" in text
    assert 'href="/mfa/enroll/totp/?next=/"' in text


def test_number_is_unusable_until_its_code_comes_back(client, user, locmem_sms, settings):
    settings.OTP_SMS_THROTTLE_FACTOR = 0
    log_in(client, user)
    sent = client.post(ADD, {"number": "+1 202 555 0123", "name": "Work phone", "action": "send"})
    assert sent.status_code == 200 and "We sent a code to +1 ••• ••• 0123" in page_text(sent)
    device = SMSDevice.objects.get()
    assert device.number == "+12025550123" and not device.confirmed
    # The challenge page does not offer an unconfirmed number.
    assert device.persistent_id not in page_text(client.get("/mfa/verify/?next=/"))

    typo = "000000" if "000000" not in locmem_sms[0].body else "111111"
    wrong = client.post(ADD, {"token": typo, "action": "verify"})
    assert wrong.status_code == 200 and "That code did not work" in page_text(wrong)
    done = client.post(ADD, {"token": code_in(locmem_sms[0].body), "action": "verify"})
    assert done.status_code == 303 and done["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed and device.name == "Work phone"
    assert SMSMessage.objects.get().purpose == "enroll"
    # The new factor was this session's second factor.
    assert "sms" in str(client.session["mfa_oauth.context"])


def test_limit_on_verification_texts_leaves_no_device_behind(client, user, locmem_sms, mfa_settings):
    mfa_settings(SMS_MAX_PER_USER_PER_DAY=1, SMS_COOLDOWN=0)
    log_in(client, user)
    assert client.post(ADD, {"number": "+12025550123", "action": "send"}).status_code == 200
    refused = client.post(ADD, {"number": "+12025550124", "action": "send"})
    assert refused.status_code == 429 and "too many text messages today" in page_text(refused)
    assert list(SMSDevice.objects.values_list("number", flat=True)) == ["+12025550123"]
    assert len(locmem_sms) == 1


def test_user_with_a_factor_needs_a_fresh_one(client, user, totp_device):
    log_in(client, user)
    response = client.get(ADD)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


def test_anonymous_goes_to_login(client):
    response = client.get(ADD)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
