from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..conf import settings as mfa_settings
from ..signals import backup_codes_generated
from .models import BackupCodeDevice


def generate(user: Any, request: HttpRequest | None = None) -> list[str]:
    """A new set of backup codes for ``user``; the old set stops working."""
    device, _created = BackupCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Backup codes", "confirmed": True}
    )
    codes = device.regenerate(max(10, int(mfa_settings.BACKUP_CODE_COUNT)))
    backup_codes_generated.send(sender=BackupCodeDevice, request=request, user=user, count=len(codes))
    return codes
