"""The small API other parts of the project use (enrollment pages, the admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mfa_oauth.sms import api
from mfa_oauth.sms.models import SMSMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_number(user):
    device = api.add_number(user, "+1 (202) 555-0123", name="Desk")
    assert (device.number, device.name, device.confirmed) == ("+12025550123", "Desk", False)
    assert api.add_number(user, "+12025550124", verified=True).confirmed
    with pytest.raises(api.InvalidNumber) as duplicate:
        api.add_number(user, "+12025550123")
    assert "already" in duplicate.value.user_message
    for raw in ("nope", "+1 900 555 1234", "+33612345678"):
        with pytest.raises(api.InvalidNumber) as bad:
            api.add_number(user, raw)
        assert bad.value.user_message
    assert user.smsdevice_set.count() == 2


def test_send_test_message_goes_through_the_outbox_and_limits(user, locmem_sms):
    device = api.add_number(user, "+12025550123", verified=True)
    message = api.send_test_message(device)
    assert isinstance(message, SMSMessage) and message.purpose == "test"
    message.refresh_from_db()
    assert message.status == "sent"
    assert locmem_sms[0].body == "Example IdP: this is a test message. You do not need to do anything."
    with pytest.raises(api.SMSRefused) as refused:
        api.send_test_message(device)  # the 30 s cooldown holds for admins too
    assert refused.value.retry_after == 30 and len(locmem_sms) == 1


def test_delivery_stats(user, sms_device):
    now = timezone.now()
    yesterday = now - timedelta(days=1)

    def row(status, at):
        SMSMessage.objects.create(user=user, device=sms_device, to=sms_device.number, status=status,
                                  created_at=at, expires_at=at)  # fmt: skip

    for status in ("sent", "delivered", "delivered", "undelivered", "failed", "queued"):
        row(status, now)
    row("delivered", yesterday)
    row("failed", now - timedelta(days=10))
    stats = api.delivery_stats(now - timedelta(days=2))
    assert stats == {
        yesterday.date(): {"sent": 1, "delivered": 1, "failed": 0},
        now.date(): {"sent": 4, "delivered": 2, "failed": 2},
    }
