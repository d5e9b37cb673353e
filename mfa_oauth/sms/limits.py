"""Limits against SMS pumping, all checked before anything is queued (OWASP ASVS 2.4.1).

Every count comes from the outbox table, inside the transaction that will add the next row, so
the limits are exact and shared by every web process; :func:`serialize` makes concurrent
requests take turns (SQLite's IMMEDIATE transactions already do; PostgreSQL takes an advisory
lock; other databases lock the device row).
"""

from __future__ import annotations

import math
import operator
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..conf import settings as mfa_settings
from . import phone
from .exceptions import LimitReached
from .models import SMSMessage

__all__ = ["LimitReached", "check", "serialize"]

ADVISORY_LOCK_ID = 0x6D66_6173  # "mfas"


def serialize(device: Any = None) -> None:
    """Call inside ``transaction.atomic()`` before counting."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])
    elif connection.vendor != "sqlite" and device is not None and device.pk:
        type(device).objects.select_for_update().filter(pk=device.pk).first()


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def _refuse(rows: Any, now: datetime, span: timedelta, cap: int, message: str) -> None:
    # The window frees a slot when its oldest counted send ages out.
    oldest = (
        rows.filter(created_at__gt=now - span).order_by("-created_at").values_list("created_at", flat=True)[cap - 1]
    )
    wait = max(1, math.ceil((oldest + span - now).total_seconds()))
    raise LimitReached(message % {"wait": _wait_text(wait)}, wait)


def check(*, user: Any, device: Any, to: str, client_ip: str | None, now: datetime) -> None:
    """Raise :class:`LimitReached` (with when to try again) if this send would pass a limit.

    The cooldown and every window are read with one statement (conditional aggregates over the
    rows any of them counts); only a refusal asks again, for when the window frees a slot."""
    allowed = {c.upper() for c in mfa_settings.SMS_ALLOWED_COUNTRIES}
    if allowed and phone.country_of(to) not in allowed:
        raise LimitReached(_("We cannot send text messages to that country. Use another factor."), 0)

    windows = [
        (
            Q(to=to),
            timedelta(hours=1),
            mfa_settings.SMS_MAX_PER_NUMBER_PER_HOUR,
            _("Too many codes were sent to this number. Try again in %(wait)s, or use another factor."),
        ),
        (
            Q(user=user),
            timedelta(days=1),
            mfa_settings.SMS_MAX_PER_USER_PER_DAY,
            _("You have asked for too many text messages today. Try again in %(wait)s, or use another factor."),
        ),
        (
            Q(client_ip=client_ip) if client_ip else None,
            timedelta(hours=1),
            mfa_settings.SMS_MAX_PER_IP_PER_HOUR,
            _("Too many text messages were requested from your network. Try again in %(wait)s, or use another factor."),
        ),
        (
            Q(),
            timedelta(minutes=1),
            mfa_settings.SMS_MAX_GLOBAL_PER_MINUTE,
            _("We are sending too many text messages right now. Try again in %(wait)s, or use another factor."),
        ),
    ]
    # None or 0: that limit is off (SMS_ENABLED turns sending off).
    active: list[tuple[Q, timedelta, int, str]] = [
        (scope, span, cap, message) for scope, span, cap, message in windows if scope is not None and cap and cap > 0
    ]
    cooldown = int(mfa_settings.SMS_COOLDOWN)
    counted: dict[str, Q] = {
        f"window{index}": scope & Q(created_at__gt=now - span) for index, (scope, span, _c, _m) in enumerate(active)
    }
    aggregates: dict[str, Aggregate] = {name: Count("pk", filter=rows) for name, rows in counted.items()}
    if cooldown > 0:
        scope = Q(device=device) if device is not None and device.pk else Q(user=user, to=to)
        counted["cooldown"] = scope & Q(created_at__gt=now - timedelta(seconds=cooldown))
        aggregates["cooldown"] = Max("created_at", filter=counted["cooldown"])
    if not aggregates:
        return
    found = SMSMessage.objects.filter(reduce(operator.or_, counted.values())).aggregate(**aggregates)

    last = found.get("cooldown")
    if last is not None:
        wait = max(1, math.ceil((last + timedelta(seconds=cooldown) - now).total_seconds()))
        raise LimitReached(
            _("A code was sent a moment ago. You can ask for another in %(wait)s.") % {"wait": _wait_text(wait)},
            wait,
        )
    for index, (scope, span, cap, message) in enumerate(active):
        if found[f"window{index}"] >= cap:
            _refuse(SMSMessage.objects.filter(scope), now, span, cap, message)
