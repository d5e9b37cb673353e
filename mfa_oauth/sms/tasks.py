"""Celery tasks: send one outbox row, and sweep the outbox.

The send task is acknowledged only after it ran (``acks_late``) and is re-queued if its worker
dies (``reject_on_worker_lost``); with ``worker_prefetch_multiplier = 1`` (site settings) a worker
holds one at a time. The row's conditional claim makes a redelivered or duplicated task harmless.
"""

from __future__ import annotations

import os
import random
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import delivery
from .models import SMSMessage
from .outbox import PUBLISH_RETRY_POLICY

SOFT_TIME_LIMIT = 20
TIME_LIMIT = 30  # below SMS_SENDING_LEASE, so a live worker's claim is never taken over


@shared_task(
    bind=True,
    name="mfa_oauth.sms.send",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    max_retries=None,  # bounded by SMS_MAX_RETRIES and the code's expiry, counted on the row
)
def send_sms(self, message_id: int) -> str:
    try:
        outcome = delivery.deliver(message_id)
    except (OperationalError, InterfaceError) as error:
        # The database blinked. Every step is a conditional update, so running again is safe; a
        # row left in "sending" is taken over after SMS_SENDING_LEASE, asking the provider first.
        raise self.retry(exc=error, countdown=random.uniform(0.2, 1.0), max_retries=5) from error
    if outcome.retry_in is not None:
        # Same row, same code; the new message keeps the code's expiry (Celery: a retry keeps ``expires``).
        raise self.retry(countdown=outcome.retry_in, expires=outcome.expires_at, max_retries=None)
    return outcome.status


@shared_task(name="mfa_oauth.sms.sweep", ignore_result=True, soft_time_limit=60, time_limit=90)
def sweep_outbox() -> dict[str, int]:
    return delivery.sweep()


class BrokerNotConfigured(RuntimeError):
    """No broker was configured for the send task's Celery app (check mfa_oauth.E065)."""


def celery_configured(app: Any = None) -> bool:
    """Whether the Celery app the send task is bound to was given a broker (or runs tasks eagerly).

    A project without a Celery app of its own gets Celery's default app, whose broker is
    ``amqp://guest@localhost//`` (Celery configuration, ``broker_url``): a message published there
    is accepted by whatever listens on that port and read by no worker of this site, so the user
    would be told "We sent a code" for a text that never goes out (check mfa_oauth.E065)."""
    conf = (app or send_sms.app).conf
    if conf.task_always_eager:
        return True
    return bool(conf.broker_url or conf.broker_write_url or os.environ.get("CELERY_BROKER_URL"))


def enqueue(message: SMSMessage) -> None:
    """The outbox publisher (connected by SMSConfig.ready()): the row's id, never the code, expiring
    with the code; raises when the broker is down or none is configured (mfa_oauth.sms.outbox.publish
    reports it and the row stays queued)."""
    if not celery_configured(send_sms.app):
        raise BrokerNotConfigured("no Celery broker is configured (check mfa_oauth.E065)")
    send_sms.apply_async(args=[message.pk], expires=message.expires_at, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
