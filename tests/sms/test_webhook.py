"""Twilio's status callback: signature checked with twilio.request_validator, idempotent, never
out of a terminal state, junk refused with a status, never a 500 (docs/security.md, "SMS delivery")."""

from __future__ import annotations

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from mfa_oauth.sms.models import SMSMessage

from .conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE, log_in, page_text

pytestmark = pytest.mark.django_db
SID = "SM" + "ab" * 16


@pytest.fixture
def sent(user, sms_device, twilio_settings) -> SMSMessage:
    now = timezone.now()
    return SMSMessage.objects.create(
        user=user, device=sms_device, to=sms_device.number, status="sent", provider_sid=SID, expires_at=now
    )


def post(client, message, params: dict, *, url: str | None = None, signature: str | None = None):
    path = f"/mfa/sms/status/{message.pk}/"
    if signature is None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url or PUBLIC_BASE + path, params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, params, headers=headers)


def params(status: str, **extra) -> dict:
    return {"MessageSid": SID, "MessageStatus": status, "AccountSid": ACCOUNT_SID, "To": "+12025550123", **extra}


def test_good_signature_updates_the_row(client, sent):
    assert post(client, sent, params("delivered")).status_code == 200
    sent.refresh_from_db()
    assert sent.status == "delivered"


def test_forged_signature_is_403_and_changes_nothing(client, sent):
    good = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE + f"/mfa/sms/status/{sent.pk}/", params("sent"))
    # A signature for other parameters, one made with another token, none at all, and the
    # http:// URL where Twilio called https:// (a proxy-rebuilding mistake).
    tampered = post(client, sent, params("undelivered", ErrorCode="30003"), signature=good)
    wrong_key = post(
        client,
        sent,
        params("failed"),
        signature=RequestValidator("another-token").compute_signature(
            PUBLIC_BASE + f"/mfa/sms/status/{sent.pk}/", params("failed")
        ),
    )
    missing = post(client, sent, params("failed"), signature="")
    http_url = post(client, sent, params("failed"), url=f"http://idp.example.com/mfa/sms/status/{sent.pk}/")
    assert [r.status_code for r in (tampered, wrong_key, missing, http_url)] == [403, 403, 403, 403]
    sent.refresh_from_db()
    assert sent.status == "sent" and sent.error_code is None


def test_repeated_and_out_of_order_callbacks_are_harmless(client, sent):
    assert post(client, sent, params("delivered")).status_code == 200
    assert post(client, sent, params("delivered")).status_code == 200
    assert post(client, sent, params("sent")).status_code == 200
    assert post(client, sent, params("undelivered", ErrorCode="30003")).status_code == 200
    sent.refresh_from_db()
    assert sent.status == "delivered" and sent.error_code is None


@pytest.mark.parametrize(
    "junk",
    [
        {"MessageSid": "not-a-sid", "MessageStatus": "delivered"},
        {"MessageSid": SID, "MessageStatus": "<script>"},
        {"MessageSid": SID},
        {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "abc"},
        {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "9" * 40},
    ],
)
def test_signed_junk_is_400_and_changes_nothing(client, sent, junk):
    assert post(client, sent, junk).status_code == 400
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_unknown_status_other_sid_or_account_change_nothing(client, sent):
    assert post(client, sent, params("accepted")).status_code == 200
    other_sid = {**params("failed"), "MessageSid": "SM" + "cd" * 16}
    assert post(client, sent, other_sid).status_code == 200
    assert post(client, sent, {**params("failed"), "AccountSid": "AC" + "00" * 16}).status_code == 403
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_get_and_unknown_rows(client, sent):
    assert client.get(f"/mfa/sms/status/{sent.pk}/").status_code == 405
    other = SMSMessage(pk=sent.pk + 1000)
    assert post(client, other, params("delivered")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_undelivered_reason_reaches_the_challenge_page(client, user, sms_device, twilio_settings):
    from .conftest import ask_for_code

    log_in(client, user)
    ask_for_code(client, sms_device)
    message = SMSMessage.objects.get()
    params_ = {"MessageSid": message.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post(client, message, params_).status_code == 200
    page = client.get("/mfa/verify/?next=/")
    assert "Your phone could not be reached. Use another factor" in page_text(page)
