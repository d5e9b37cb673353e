"""Re-encrypt every TOTP/HOTP/OATH seed with the first MFA_OAUTH["SEED_KEYS"] key.

Rotation (docs/security.md, "OTP seeds at rest"): put the new key first in SEED_KEYS and keep the
old ones after it, deploy that to every node, run this command, and only when it reports nothing
left under an old key remove the old key. Clear seeds (a row written outside the ORM, or before the
data migration) are encrypted too. ``--check`` writes nothing and exits with status 1 while any row
is not yet under the first key, so a deployment script can refuse to drop an old key too early.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ...seeds.keyring import keyring
from ...seeds.rows import SEED_MODELS, reseal


class Command(BaseCommand):
    help = "Re-encrypt every OTP seed with the first MFA_OAUTH['SEED_KEYS'] key (see the module docstring)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="report only; exit 1 if any row needs work")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, check: bool, batch_size: int, database: str, **options: Any) -> None:
        ring = keyring()
        unreadable = pending = 0
        for app_label, model_name in SEED_MODELS:
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue  # that device type is not installed
            report = reseal(model, ring=ring, using=database, dry_run=check, batch_size=max(1, batch_size))
            verb = "would be" if check else "were"
            self.stdout.write(
                f"{report.label}: {report.current} already under the first key; "
                f"{report.rotated} under an older key and {report.sealed} in clear {verb} re-encrypted; "
                f"{report.unreadable} unreadable, {report.invalid} not a hex seed"
                + (f", {report.raced} re-saved meanwhile" if report.raced else "")
                + "."
            )
            unreadable += report.unreadable + report.invalid
            pending += report.pending
        if unreadable:
            raise CommandError(
                f"{unreadable} seed(s) cannot be re-encrypted: no configured key opens them, or they are not "
                "hex. Restore the key that wrote them to MFA_OAUTH['SEED_KEYS'] (after the first) before "
                "removing any key."
            )
        if check and pending:
            raise CommandError(f"{pending} seed(s) are not under the first key yet: run mfa_rotate_seeds.")
