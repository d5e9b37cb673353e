"""Remove every second factor of a user and clear the lock (lost phone, proofing done elsewhere)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ... import services
from ._common import get_user


class Command(BaseCommand):
    help = "Remove all second factors of USERNAME and clear the failure lock."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user(username)
        removed = services.reset(user)
        self.stdout.write(f"Removed {removed} second factor(s) of {username}; the lock is cleared.")
