"""Which events notify the user: factor added/removed, backup codes regenerated/used, lockout."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest

from .. import signals
from ..methods import method_of
from .mail import notify


def _label(device: Any, method: str) -> str:
    return str(method_of(device).label) if device is not None else method  # in the language of the mail


@receiver(signals.factor_added, dispatch_uid="mfa_oauth.notifications.factor_added")
def on_factor_added(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    **kwargs: Any,
) -> None:
    if kwargs.get("notify", True):
        notify("factor_added", user, request=request, device=device, method_label=_label(device, method))


@receiver(signals.factor_removed, dispatch_uid="mfa_oauth.notifications.factor_removed")
def on_factor_removed(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    **kwargs: Any,
) -> None:
    if kwargs.get("notify", True):
        notify("factor_removed", user, request=request, device=device, method_label=_label(device, method))


@receiver(signals.backup_codes_generated, dispatch_uid="mfa_oauth.notifications.backup_codes_generated")
def on_backup_codes_generated(
    sender: Any, request: HttpRequest | None = None, user: Any = None, count: Any = None, **kwargs: Any
) -> None:
    notify("backup_codes_generated", user, request=request, count=count)


@receiver(signals.backup_code_used, dispatch_uid="mfa_oauth.notifications.backup_code_used")
def on_backup_code_used(
    sender: Any, request: HttpRequest | None = None, user: Any = None, remaining: Any = None, **kwargs: Any
) -> None:
    notify("backup_code_used", user, request=request, remaining=remaining)


@receiver(signals.second_factor_locked, dispatch_uid="mfa_oauth.notifications.locked")
def on_locked(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    failure_count: Any = None,
    locked_until: Any = None,
    passkey_usable: Any = False,
    **kwargs: Any,
) -> None:
    # Sent once for each lock that starts (mfa_oauth.lockout), so the owner hears of every window.
    notify(
        "locked",
        user,
        request=request,
        failure_count=failure_count,
        locked_until=locked_until,
        passkey_usable=passkey_usable,
    )
