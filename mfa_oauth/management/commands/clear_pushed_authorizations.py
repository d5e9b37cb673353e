"""``manage.py clear_pushed_authorizations``: delete expired pushed authorization requests (RFC 9126).

Run it periodically (cron, or a Celery beat task calling :func:`mfa_oauth.par.sweep.clear_expired`),
as django-oauth-toolkit's ``cleartokens`` is run for tokens; see docs/fapi.md."""

from typing import Any

from django.core.management.base import BaseCommand

from ...par.sweep import clear_expired


class Command(BaseCommand):
    help = "Delete pushed authorization requests (RFC 9126) whose request_uri has expired."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted={clear_expired()}")
