"""Turn "a second factor was verified with a backup code" into ``backup_code_used``.

The challenge step (verify/) knows no factor by name; this factor announces its own use so the
audit log and the notification (NIST SP 800-63B-4 §4.2.1.1) can react.
"""

from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest

from ..signals import backup_code_used, second_factor_verified
from .models import BackupCodeDevice


@receiver(second_factor_verified, dispatch_uid="mfa_oauth.backup_codes.used")
def announce_use(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    context: Any = None,
    **kwargs: Any,
) -> None:
    if not isinstance(device, BackupCodeDevice):
        return
    backup_code_used.send(
        sender=BackupCodeDevice, request=request, user=user, device=device, remaining=device.remaining, context=context
    )
