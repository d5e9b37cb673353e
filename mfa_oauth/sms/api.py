"""A small API for other parts of the project (enrollment pages, the admin).

Names are stable: ``add_number``, ``send_test_message``, ``delivery_stats``, ``InvalidNumber``.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from .models import SMSDevice, SMSMessage
from .phone import InvalidNumber, to_e164
from .service import BrokerUnavailable, SMSRefused, queue_plain

__all__ = ["InvalidNumber", "SMSRefused", "BrokerUnavailable", "add_number", "send_test_message", "delivery_stats"]

Status = SMSMessage.Status


def add_number(user, raw_number: str, *, name: str = "", verified: bool = False) -> SMSDevice:
    """A new SMS device for ``user``; usable (``confirmed``) only if ``verified``.

    Raises :class:`InvalidNumber` (``.user_message``) for a number we would not text, or one
    the user already has."""
    number = to_e164(raw_number)
    if SMSDevice.objects.filter(user=user, number=number).exists():
        raise InvalidNumber(_("That number is already one of your factors."))
    return SMSDevice.objects.create(user=user, number=number, name=(name or _("Phone"))[:64], confirmed=verified)


def send_test_message(device: SMSDevice) -> SMSMessage:
    """Queue a code-free test text to ``device`` under the same limits and outbox as codes.

    Raises :class:`SMSRefused` (``.user_message``, ``.retry_after``) when a limit says no, or
    :class:`BrokerUnavailable` (a subclass) when the row stays queued for the sweep."""
    return queue_plain(user=device.user, device=device)


def delivery_stats(since: datetime) -> dict[date, dict[str, int]]:
    """Per day (UTC) since ``since``: texts handed to the gateway (``sent``), confirmed
    ``delivered`` by the carrier, and ``failed`` (refused by the gateway or undelivered)."""
    rows = (
        SMSMessage.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            sent=Count("pk", filter=Q(status__in=(Status.SENT, Status.DELIVERED, Status.UNDELIVERED))),
            delivered=Count("pk", filter=Q(status=Status.DELIVERED)),
            failed=Count("pk", filter=Q(status__in=(Status.FAILED, Status.UNDELIVERED))),
        )
        .order_by("day")
    )
    return {row["day"]: {"sent": row["sent"], "delivered": row["delivered"], "failed": row["failed"]} for row in rows}
