"""Enroll a second factor for a user from the command line (operators, scripted onboarding)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ....totp.flows import base32_secret, otpauth_uri, qr_terminal
from ... import services
from ._common import get_user


class Command(BaseCommand):
    help = "Enroll a second factor for USERNAME: --totp [--qr], --sms +E164, or --backup-codes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        kind = parser.add_mutually_exclusive_group(required=True)
        kind.add_argument("--totp", action="store_true", help="a new authenticator-app secret (prints the otpauth URI)")
        kind.add_argument("--sms", metavar="+E164", help="an SMS number, verified the first time it is used")
        kind.add_argument(
            "--backup-codes", action="store_true", help="a new set of backup codes (old ones stop working)"
        )
        parser.add_argument("--qr", action="store_true", help="with --totp: also draw the QR code in the terminal")
        parser.add_argument("--name", default="", help="a name for the new factor")

    def handle(
        self, *args: Any, username: str, totp: bool, sms: str | None, backup_codes: bool, qr: bool, name: str, **o: Any
    ) -> None:
        user = get_user(username)
        if qr and not totp:
            raise CommandError("--qr only goes with --totp.")
        try:
            if totp:
                device = services.enroll_totp(user, name=name or "Authenticator app")
                uri = otpauth_uri(device)
                self.stdout.write(f"Authenticator app enrolled for {username}. Shown once, hand it over now:")
                self.stdout.write(f"secret: {base32_secret(device)}")
                self.stdout.write(uri)
                if qr:
                    self.stdout.write(qr_terminal(uri))
            elif sms:
                device = services.enroll_sms(user, sms, name=name)
                self.stdout.write(f"SMS number {getattr(device, 'masked_number', '') or sms} enrolled for {username}.")
            else:
                codes = services.generate_backup_codes(user)
                self.stdout.write(f"New backup codes for {username} (any earlier codes no longer work):")
                for code in codes:
                    self.stdout.write(code)
        except services.EnrollmentError as error:
            raise CommandError(error.user_message) from error
