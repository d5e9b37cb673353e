"""Limits against SMS pumping, all checked before anything is queued (SECURITY.md D1).

Every count comes from the outbox table, inside the transaction that will add the next row, so
the limits are exact and shared by every web process; :func:`serialize` makes concurrent
requests take turns (SQLite's IMMEDIATE transactions already do; PostgreSQL takes an advisory
lock; other databases lock the device row).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..conf import settings as mfa_settings
from .models import SMSMessage

ADVISORY_LOCK_ID = 0x6D66_6173  # "mfas"


class LimitReached(Exception):
    def __init__(self, user_message: str, retry_after: int):
        super().__init__(user_message)
        self.user_message = user_message
        self.retry_after = retry_after


def serialize(device=None) -> None:
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


def _window(rows, now: datetime, span: timedelta, cap: int, message: str) -> None:
    if not cap or cap < 0:  # None or 0: this limit is off (SMS_ENABLED turns sending off)
        return
    recent = rows.filter(created_at__gt=now - span)
    if recent.count() < cap:
        return
    # The window frees a slot when its oldest counted send ages out.
    oldest = recent.order_by("-created_at").values_list("created_at", flat=True)[cap - 1]
    wait = max(1, math.ceil((oldest + span - now).total_seconds()))
    raise LimitReached(message % {"wait": _wait_text(wait)}, wait)


def check(*, user, device, to: str, client_ip: str | None, now: datetime) -> None:
    """Raise :class:`LimitReached` (with when to try again) if this send would pass a limit."""
    from . import phone

    allowed = {c.upper() for c in mfa_settings.SMS_ALLOWED_COUNTRIES}
    if allowed and phone.country_of(to) not in allowed:
        raise LimitReached(_("We cannot send text messages to that country. Use another factor."), 0)

    cooldown = int(mfa_settings.SMS_COOLDOWN)
    if cooldown > 0:
        scope = SMSMessage.objects.filter(device=device) if device is not None and device.pk else None
        scope = scope if scope is not None else SMSMessage.objects.filter(user=user, to=to)
        last = scope.filter(created_at__gt=now - timedelta(seconds=cooldown)).order_by("-created_at").first()
        if last is not None:
            wait = max(1, math.ceil((last.created_at + timedelta(seconds=cooldown) - now).total_seconds()))
            raise LimitReached(
                _("A code was sent a moment ago. You can ask for another in %(wait)s.") % {"wait": _wait_text(wait)},
                wait,
            )

    _window(
        SMSMessage.objects.filter(to=to),
        now,
        timedelta(hours=1),
        mfa_settings.SMS_MAX_PER_NUMBER_PER_HOUR,
        _("Too many codes were sent to this number. Try again in %(wait)s, or use another factor."),
    )
    _window(
        SMSMessage.objects.filter(user=user),
        now,
        timedelta(days=1),
        mfa_settings.SMS_MAX_PER_USER_PER_DAY,
        _("You have asked for too many text messages today. Try again in %(wait)s, or use another factor."),
    )
    if client_ip:
        _window(
            SMSMessage.objects.filter(client_ip=client_ip),
            now,
            timedelta(hours=1),
            mfa_settings.SMS_MAX_PER_IP_PER_HOUR,
            _("Too many text messages were requested from your network. Try again in %(wait)s, or use another factor."),
        )
    _window(
        SMSMessage.objects.all(),
        now,
        timedelta(minutes=1),
        mfa_settings.SMS_MAX_GLOBAL_PER_MINUTE,
        _("We are sending too many text messages right now. Try again in %(wait)s, or use another factor."),
    )
