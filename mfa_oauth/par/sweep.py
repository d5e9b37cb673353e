"""Deleting expired pushed authorization requests (RFC 9126 §2.2: a ``request_uri`` is short-lived).

An expired row is already refused by its ``expires`` (:func:`mfa_oauth.par.parameters_for_browser`), so
deleting it changes no answer: a ``request_uri`` whose row is gone is unknown, ``invalid_request_uri``
like an expired one, and a browser that claimed it keeps its session copy until the authorization
response. Nothing else deletes them (django-oauth-toolkit's ``cleartokens`` / ``clear_expired()`` knows
only its own models and has no extension point), so a site runs this periodically:
``manage.py clear_pushed_authorizations`` from cron, or the reference site's Celery beat task.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

BATCH_SIZE = 1000


def clear_expired(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete every pushed request that expired before ``now``; returns how many were deleted.

    In batches of ``batch_size`` primary keys, so one sweep never holds a long lock on the table."""
    from ..fapi.models import PushedAuthorization

    now = timezone.now() if now is None else now
    deleted = 0
    while True:
        batch = list(PushedAuthorization.objects.filter(expires__lt=now).values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        count, _per_model = PushedAuthorization.objects.filter(pk__in=batch).delete()
        deleted += count
