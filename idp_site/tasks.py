"""The reference site's periodic jobs that are not an app's own (Celery beat, ``CELERY_BEAT_SCHEDULE``).

``mfa_oauth`` itself does not depend on Celery: it offers the job as a function and a management
command; the site registers the task (Celery's autodiscovery finds this module, ``idp_site`` being an
installed app)."""

from __future__ import annotations

from celery import shared_task

from mfa_oauth.par.sweep import clear_expired


@shared_task(name="idp_site.clear_pushed_authorizations", ignore_result=True, soft_time_limit=60, time_limit=90)
def clear_pushed_authorizations() -> int:
    """Expired pushed authorization requests (RFC 9126) deleted (docs/fapi.md)."""
    return clear_expired()
