"""The admin overview: who is protected by what, what goes wrong, and SMS delivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import device_classes

from .. import lockout
from ..audit.models import AuthEvent, EventKind
from ..methods import method_of
from ..models import UserMFAState
from . import services
from .charts import BAD, GOOD, NEUTRAL, WARNING, daily_columns, horizontal_bars

DAYS = 14
SMS_COLOURS = {"sent": NEUTRAL, "delivered": GOOD, "failed": BAD}


def enrollment_by_method() -> list[tuple[str, int]]:
    """Users with at least one confirmed device per method, and users with none.

    Counted in the database (COUNT DISTINCT per device type, NOT IN subqueries for "none"), so
    the page costs the same few queries with ten users or a million."""
    labels: dict[str, str] = {}
    querysets: dict[str, list] = {}
    for model in device_classes():
        method = method_of(model())
        labels.setdefault(method.name, str(method.label))
        querysets.setdefault(method.name, []).append(model.objects.filter(confirmed=True).values("user_id"))
    rows = []
    for name, parts in querysets.items():
        union = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0].distinct()
        rows.append((labels[name], union.count()))
    rows.sort(key=lambda r: -r[1])
    unprotected = get_user_model()._default_manager.all()
    for name, parts in querysets.items():
        if name == "backup_code":  # backup codes alone do not protect an account
            continue
        for part in parts:
            unprotected = unprotected.exclude(pk__in=part)
    rows.append(("None", unprotected.count()))
    return rows


def failures_per_day(now: Any = None) -> tuple[list[str], list[int], list[int]]:
    now = now or timezone.now()
    start = (now - timedelta(days=DAYS - 1)).date()
    days = [(start + timedelta(days=i)) for i in range(DAYS)]
    counts = (
        AuthEvent.objects.filter(kind__in=[EventKind.MFA_FAILED, EventKind.LOCKED], at__date__gte=start)
        .annotate(day=TruncDate("at"))
        .values("day", "kind")
        .annotate(n=Count("id"))
    )
    table = {(row["day"], row["kind"]): row["n"] for row in counts}
    failures = [table.get((d, EventKind.MFA_FAILED), 0) for d in days]
    lockouts = [table.get((d, EventKind.LOCKED), 0) for d in days]
    return [d.isoformat() for d in days], failures, lockouts


_SMS_SERIES = {"sent": gettext_lazy("Sent"), "delivered": gettext_lazy("Delivered"), "failed": gettext_lazy("Failed")}


def sms_stats(now: Any = None) -> tuple[list[str], dict[str, list[int]]] | None:
    if not services.sms_installed():
        return None
    from ..sms import api

    now = now or timezone.now()
    since = now - timedelta(days=DAYS - 1)
    stats = api.delivery_stats(since)
    start = since.date()
    days = [start + timedelta(days=i) for i in range(DAYS)]
    series = {
        key: [int(stats.get(d, stats.get(d.isoformat(), {})).get(key, 0)) for d in days]
        for key in ("sent", "delivered", "failed")
    }
    return [d.isoformat() for d in days], series


def overview_view(request):
    enrollment = enrollment_by_method()
    days, failures, lockouts = failures_per_day()
    sms = sms_stats()
    context = {
        **admin.site.each_context(request),
        "title": _("MFA overview"),
        "enrollment": enrollment,
        "enrollment_chart": horizontal_bars(enrollment, title=_("Users by second-factor method")),
        "failures_chart": daily_columns(
            days,
            [(_("Failures"), failures), (_("Lockouts"), lockouts)],
            title=_("Second-factor failures and lockouts per day"),
            colours=(WARNING, BAD),
        ),
        "failures_total": sum(failures),
        "lockouts_total": sum(lockouts),
        "locked_now": UserMFAState.objects.filter(lockout.locked_now()).count(),
        "sms_chart": daily_columns(
            sms[0],
            [(str(_SMS_SERIES.get(k, k)), v) for k, v in sms[1].items()],
            title=_("SMS sent, delivered and failed per day"),
            colours=[SMS_COLOURS.get(k, NEUTRAL) for k in sms[1]],
        )
        if sms
        else None,
        "sms_totals": {k: sum(v) for k, v in sms[1].items()} if sms else None,
        "days": DAYS,
    }
    return TemplateResponse(request, "admin/mfa_oauth/overview.html", context)
