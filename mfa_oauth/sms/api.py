"""A small API for other parts of the project (enrollment pages, the admin).

Names are stable: ``add_number``, ``check_number``, ``send_test_message``, ``delivery_stats``,
``InvalidNumber``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..signals import challenge_sent
from .models import SMSDevice, SMSMessage
from .phone import InvalidNumber, to_e164
from .service import BrokerUnavailable, SMSRefused, client_ip, queue_plain

__all__ = [
    "InvalidNumber",
    "AlreadyEnrolled",
    "SMSRefused",
    "BrokerUnavailable",
    "add_number",
    "check_number",
    "send_test_message",
    "delivery_stats",
]

Status = SMSMessage.Status


class AlreadyEnrolled(InvalidNumber):
    """The number is already one of this account's factors (confirmed or assigned)."""


def _in_use(number: str):
    """Devices that hold ``number`` for real: confirmed, or assigned by an operator. A number a
    user typed on the add page and never verified holds nothing (anyone can type any number)."""
    return SMSDevice.objects.filter(number=number).filter(Q(confirmed=True) | Q(assigned=True))


def held_elsewhere(device: SMSDevice) -> bool:
    """Whether another account holds ``device``'s number (confirmed or assigned)."""
    return _in_use(device.number).exclude(user_id=device.user_id).exists()


def check_number(user: Any, raw_number: str) -> str:
    """The E.164 form of ``raw_number`` if an operator may enroll it for ``user`` (nothing written).

    Raises :class:`InvalidNumber` (``.user_message``) for a number we would not text, one the user
    already has, or one that belongs to another account."""
    number = to_e164(raw_number)
    holders = set(_in_use(number).values_list("user_id", flat=True))
    if user.pk in holders:
        raise AlreadyEnrolled(_("That number is already one of this account's factors."))
    if holders:
        # Operators see every account anyway; a shared number would let one person's phone pass
        # the second factor of two accounts, and a typo would text codes to a stranger.
        raise InvalidNumber(_("This number is already used by another account."))
    return number


def add_number(user: Any, raw_number: str, *, name: str = "", verified: bool = False) -> SMSDevice:
    """A new SMS device for ``user``, entered by an operator (admin, CLI, import).

    ``verified=False`` (the rule for operators, NIST SP 800-63B-4 §3.1.3.3) stores it unconfirmed and
    *assigned*: verified on first use, see :class:`~mfa_oauth.sms.models.SMSDeviceManager`.
    Raises :class:`InvalidNumber` (``.user_message``), see :func:`check_number`."""
    number = check_number(user, raw_number)
    with transaction.atomic():
        # The user's own unverified attempt at the same number becomes this device (one row per
        # number; a verification the user has under way keeps working).
        stale = SMSDevice.objects.filter(user=user, number=number, confirmed=False, assigned=False).first()
        if stale is not None:
            stale.name = (name or stale.name or _("Phone"))[:64]
            stale.confirmed, stale.assigned = verified, not verified
            stale.save(update_fields=["name", "confirmed", "assigned"])
            return stale
        return SMSDevice.objects.create(
            user=user, number=number, name=(name or _("Phone"))[:64], confirmed=verified, assigned=not verified
        )


def send_test_message(device: SMSDevice, *, request: HttpRequest | None = None) -> SMSMessage:
    """Queue a code-free test text to ``device`` under the same limits and outbox as codes, and
    send ``challenge_sent`` (``purpose="test"``) so the audit log has it.

    Raises :class:`SMSRefused` (``.user_message``, ``.retry_after``) when a limit says no, or
    :class:`BrokerUnavailable` (a subclass) when the row stays queued for the sweep."""
    try:
        message = queue_plain(user=device.user, device=device, client_ip=client_ip(request) if request else None)
    except BrokerUnavailable:
        _announce_test(device, request)  # stored and will go out with the sweep
        raise
    _announce_test(device, request)
    return message


def _announce_test(device: SMSDevice, request: HttpRequest | None) -> None:
    challenge_sent.send(
        sender=SMSDevice, request=request, user=device.user, device=device, method="sms", purpose="test"
    )


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
