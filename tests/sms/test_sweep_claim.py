"""The sweep claims a stuck row before publishing it (so two sweeps at once queue it once; the
concurrent case is tests/prod/test_concurrency_postgres.py), and gives the claim back when the
broker is down, so the next sweep retries at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mfa_oauth.sms.delivery import sweep
from mfa_oauth.sms.models import SMSMessage

from .conftest import celery_broker

DEAD_BROKER = "redis://127.0.0.1:8799/0"  # nothing listens there


def stuck_row(user, device) -> SMSMessage:
    asked = timezone.now() - timedelta(seconds=60)
    return SMSMessage.objects.create(
        user=user,
        device=device,
        to=device.number,
        purpose="test",
        created_at=asked,
        expires_at=asked + timedelta(minutes=5),
        next_attempt_at=asked,
    )


@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_cannot_publish_gives_its_claim_back(user, sms_device, locmem_sms):
    row = stuck_row(user, sms_device)
    with celery_broker(DEAD_BROKER):
        assert sweep() == {"expired": 0, "requeued": 0, "broker_down": 1}
    row.refresh_from_db()
    assert row.status == "queued" and row.next_attempt_at == row.created_at  # as if no sweep had run

    # The broker is back (eager Celery here): the very next sweep sends it.
    assert sweep() == {"expired": 0, "requeued": 1, "broker_down": 0}
    row.refresh_from_db()
    assert row.status == "sent" and len(locmem_sms) == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_claimed_by_a_sweep_waits_a_grace_period_before_the_next(user, sms_device, mfa_settings):
    row = stuck_row(user, sms_device)
    # What another sweep's claim leaves behind: next_attempt_at = the moment it published.
    claimed_at = timezone.now()
    SMSMessage.objects.filter(pk=row.pk).update(next_attempt_at=claimed_at)
    assert sweep() == {"expired": 0, "requeued": 0, "broker_down": 0}
    row.refresh_from_db()
    assert row.status == "queued" and row.next_attempt_at == claimed_at
