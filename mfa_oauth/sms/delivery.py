"""What the send task does with one outbox row; kept apart from Celery so it reads plainly.

queued → sending by a conditional UPDATE (two runs, two workers: one Twilio request), then
sent(MessageSid) or failed(error code), or back to queued with a retry time for a transient
error while the code still lives (Celery Tasks guide: idempotent tasks, retries; Calling guide: expires).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ..adapter import get_adapter
from ..conf import settings as mfa_settings
from . import codes, phone
from .gateways import GatewayError, OutgoingSMS, get_gateway
from .models import SMSMessage
from .outbox import publish

logger = logging.getLogger("mfa_oauth.sms")
Status = SMSMessage.Status
# A retry must start this long before the code expires to be worth it.
RETRY_MARGIN = timedelta(seconds=5)
EXPIRED = "expired before it could be sent"
SUPERSEDED = "replaced by a newer code before it was sent"


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None
    expires_at: datetime | None = None


def build_body(message: SMSMessage) -> str | None:
    site = mfa_settings.SMS_SITE_NAME
    if message.purpose == SMSMessage.Purpose.TEST:
        return get_adapter().format_sms_test(site_name=site)
    code = codes.unseal(message.sealed_code) if message.sealed_code else None
    if code is None:
        return None
    minutes = max(1, round((message.expires_at - message.created_at).total_seconds() / 60))
    return get_adapter().format_sms_code(code=code, site_name=site, minutes=minutes)


def backoff(attempt: int) -> float:
    """1, 2, 4, … s capped at SMS_RETRY_BACKOFF_MAX, each stretched by up to 25 % of jitter.

    The jitter spreads retries of many messages apart; the ranges do not overlap, so the delays
    of one message never decrease."""
    cap = float(mfa_settings.SMS_RETRY_BACKOFF_MAX)
    base = min(cap, 2.0 ** max(0, attempt - 1))
    return min(cap, base * random.uniform(1.0, 1.25))


def status_callback_url(message: SMSMessage) -> str:
    base = (mfa_settings.SMS_PUBLIC_BASE_URL or "").rstrip("/")
    if not base:
        return ""
    return base + reverse("mfa_oauth:sms-status", args=[message.pk])


def _finish(message_id: int, status: str, *, from_status: Any = (Status.QUEUED, Status.SENDING), **fields: Any) -> bool:
    now = timezone.now()
    return bool(
        SMSMessage.objects.filter(pk=message_id, status__in=from_status).update(
            status=status, status_updated_at=now, sealed_code="", **fields
        )
    )


def fail(message_id: int, reason: str, code: int | None = None) -> None:
    if _finish(message_id, Status.FAILED, error_code=code, error_message=reason[:255]):
        logger.warning("SMS %s failed: %s (code %s)", message_id, reason, code)


def deliver(message_id: int) -> Outcome:
    now = timezone.now()
    message = SMSMessage.objects.filter(pk=message_id).select_related("code").first()
    if message is None:
        return Outcome("missing")
    if message.status not in (Status.QUEUED, Status.SENDING):
        return Outcome("done")  # a second run of a task that already sent (E5)
    if message.expires_at <= now:
        fail(message_id, EXPIRED)  # a stale task never sends (E7)
        return Outcome("expired")

    reconcile = message.maybe_sent
    claimed = SMSMessage.objects.filter(pk=message_id, status=Status.QUEUED, expires_at__gt=now).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        # Held in "sending": by a live worker (leave it), or by one that died mid-send and whose
        # message the broker redelivered (take it over, but first ask the provider whether the
        # dead worker's request got through, so the text is not sent twice).
        lease = timedelta(seconds=mfa_settings.SMS_SENDING_LEASE)
        claimed = SMSMessage.objects.filter(
            pk=message_id, status=Status.SENDING, claimed_at__lt=now - lease, expires_at__gt=now
        ).update(claimed_at=now, attempts=F("attempts") + 1, maybe_sent=True)
        if not claimed:
            return Outcome("busy")
        reconcile = True
    message.refresh_from_db()

    code = message.code
    if code is not None and (code.used_at or code.superseded_at):
        fail(message_id, SUPERSEDED)
        return Outcome("superseded")
    body = build_body(message)
    if body is None:
        fail(message_id, "the sealed code could not be read (SECRET_KEY changed?)")
        return Outcome("failed")

    gateway = get_gateway()
    if reconcile:
        try:
            sid = gateway.find_sent(message.to, body, since=message.created_at)
        except GatewayError as error:
            # Sending blind could text the code twice: retry later and ask again first.
            logger.warning("SMS %s: could not ask the provider about an interrupted send (%s)", message_id, error)
            error.ambiguous = True
            return _after_error(message, error)
        if sid:
            _finish(message_id, Status.SENT, from_status=(Status.SENDING,), provider_sid=sid, sent_at=now)
            logger.info("SMS %s: an interrupted send had reached the provider (%s)", message_id, sid)
            return Outcome("sent")

    remaining = int((message.expires_at - now).total_seconds())
    outgoing = OutgoingSMS(
        to=message.to,
        body=body,
        validity_seconds=max(1, remaining),
        status_callback=status_callback_url(message) if gateway.sends_status_callbacks else "",
        reference=str(message.pk),
    )
    try:
        result = gateway.send(outgoing)
    except GatewayError as error:
        return _after_error(message, error)
    sent_at = timezone.now()
    if not _finish(message_id, Status.SENT, from_status=(Status.SENDING,), provider_sid=result.sid, sent_at=sent_at):
        # A status callback got here first: keep its (terminal) status, but record the sid and time.
        SMSMessage.objects.filter(pk=message_id, provider_sid__isnull=True).update(provider_sid=result.sid)
        SMSMessage.objects.filter(pk=message_id).update(sent_at=sent_at, sealed_code="")
    logger.info("SMS %s sent to %s (%s)", message_id, phone.mask(message.to), result.sid)
    return Outcome("sent")


def _after_error(message: SMSMessage, error: GatewayError) -> Outcome:
    now = timezone.now()
    if error.transient and message.attempts <= mfa_settings.SMS_MAX_RETRIES:
        delay = backoff(message.attempts)
        if now + timedelta(seconds=delay) < message.expires_at - RETRY_MARGIN:
            SMSMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
                status=Status.QUEUED,
                next_attempt_at=now + timedelta(seconds=delay),
                error_code=error.code,
                error_message=str(error)[:255],
                maybe_sent=message.maybe_sent or error.ambiguous,
            )
            logger.info("SMS %s: transient error %s, retry in %.1f s", message.pk, error.code, delay)
            return Outcome("retry", retry_in=delay, expires_at=message.expires_at)
    fail(message.pk, str(error) or "send failed", error.code)
    return Outcome("failed")


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Expire dead rows and re-enqueue rows stuck in queued (broker was down) or in sending
    (worker died and the broker lost the message) while their code is still valid."""
    now = now or timezone.now()
    counts = {"expired": 0, "requeued": 0, "broker_down": 0}
    for pk in SMSMessage.objects.filter(status__in=(Status.QUEUED, Status.SENDING), expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        fail(pk, EXPIRED)
        counts["expired"] += 1
    # Terminal and sent rows keep no sealed code.
    SMSMessage.objects.exclude(status__in=(Status.QUEUED, Status.SENDING)).exclude(sealed_code="").update(
        sealed_code=""
    )
    grace = timedelta(seconds=mfa_settings.SMS_SWEEP_GRACE)
    lease = timedelta(seconds=mfa_settings.SMS_SENDING_LEASE)
    due = {"expires_at__gt": now + RETRY_MARGIN, "next_attempt_at__lte": now - grace}
    stuck = SMSMessage.objects.filter(status=Status.QUEUED, **due) | SMSMessage.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - lease, **due
    )
    for message in stuck.order_by("created_at")[:500]:
        # Claim the row before publishing (a conditional UPDATE, like the send task's): of two
        # sweeps running at once (two beats, beat plus the command) only one queues it; and not
        # again before the next grace period, even if this copy is slow to arrive.
        if not SMSMessage.objects.filter(pk=message.pk, status=message.status, **due).update(next_attempt_at=now):
            continue
        if not publish(message):
            # Give the claim back so the next sweep retries at once, as if this one never ran.
            SMSMessage.objects.filter(pk=message.pk, next_attempt_at=now).update(
                next_attempt_at=message.next_attempt_at
            )
            counts["broker_down"] += 1
            break
        counts["requeued"] += 1
    return counts
