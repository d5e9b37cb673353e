"""The per-user hard cap on consecutive second-factor failures (SECURITY.md A1-A4).

Each attempt is counted *before* its code is checked, with one UPDATE ... SET n = n + 1, so
parallel attempts from many sessions cannot lose increments or slip past the cap.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from .conf import settings as mfa_settings
from .models import UserMFAState


def _state_queryset(user):
    UserMFAState.objects.get_or_create(user=user)
    return UserMFAState.objects.filter(user=user)


def failure_count(user) -> int:
    state = UserMFAState.objects.filter(user=user).values_list("failure_count", flat=True).first()
    return state or 0


def is_locked(user) -> bool:
    return failure_count(user) >= mfa_settings.MAX_FAILED_ATTEMPTS


def count_attempt(user) -> int:
    """Record an attempt as a failure up front; returns the new count."""
    rows = UserMFAState.objects.filter(user=user)
    if not rows.update(failure_count=F("failure_count") + 1, updated=timezone.now()):
        _state_queryset(user).update(failure_count=F("failure_count") + 1, updated=timezone.now())
    return failure_count(user)


def lock_if_capped(user, count: int) -> bool:
    """Mark the state locked when ``count`` reached the cap; True only for the request that locked it."""
    if count < mfa_settings.MAX_FAILED_ATTEMPTS:
        return False
    return bool(UserMFAState.objects.filter(user=user, locked_at__isnull=True).update(locked_at=timezone.now()))


def reset(user) -> None:
    UserMFAState.objects.filter(user=user).update(failure_count=0, locked_at=None, updated=timezone.now())


def unlock(user) -> None:
    reset(user)
