from typing import Any

from django.core.management.base import BaseCommand

from ...delivery import sweep


class Command(BaseCommand):
    help = "Expire stale SMS outbox rows and re-enqueue the ones stuck while the broker was down."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = sweep()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in counts.items()))
