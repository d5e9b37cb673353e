"""The per-user hard cap on consecutive second-factor failures (SECURITY.md A1-A4).

Each attempt is counted *before* its code is checked, with one conditional
``UPDATE ... SET n = n + 1 WHERE n < cap``: parallel attempts from many sessions can neither
lose increments nor slip past the cap, and a locked user's code is never evaluated.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from .conf import settings as mfa_settings
from .models import UserMFAState


def failure_count(user) -> int:
    count = UserMFAState.objects.filter(user=user).values_list("failure_count", flat=True).first()
    return count or 0


def is_locked(user) -> bool:
    return failure_count(user) >= mfa_settings.MAX_FAILED_ATTEMPTS


def claim_attempt(user) -> bool:
    """Count one attempt up front; False when the user is locked (nothing counted, nothing to check)."""
    cap = mfa_settings.MAX_FAILED_ATTEMPTS
    rows = UserMFAState.objects.filter(user=user, failure_count__lt=cap)
    if rows.update(failure_count=F("failure_count") + 1, updated=timezone.now()):
        return True
    # No row yet (a first attempt), or locked: make sure the row exists and try once more; concurrent
    # first attempts all land here, and the conditional update still admits exactly the cap.
    UserMFAState.objects.get_or_create(user=user)
    return bool(rows.update(failure_count=F("failure_count") + 1, updated=timezone.now()))


def lock_if_capped(user) -> int | None:
    """After a failed attempt: lock when the cap is reached. Returns the count if this call locked."""
    count = failure_count(user)
    if count < mfa_settings.MAX_FAILED_ATTEMPTS:
        return None
    locked = UserMFAState.objects.filter(user=user, locked_at__isnull=True).update(locked_at=timezone.now())
    return count if locked else None


def reset(user) -> None:
    UserMFAState.objects.filter(user=user).update(failure_count=0, locked_at=None, updated=timezone.now())


def unlock(user) -> None:
    reset(user)
