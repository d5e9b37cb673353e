"""The per-user hard cap on consecutive second-factor failures (SECURITY.md A1-A4).

Each attempt is counted *before* its code is checked, with one UPDATE ... SET n = n + 1, so
parallel attempts from many sessions cannot lose increments or slip past the cap.
"""

from __future__ import annotations

from django.db import transaction
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
    """Record an attempt as a failure up front; returns the count including this attempt.

    The increment and the read happen under the row lock, so every concurrent attempt gets its
    own number. (Reading after a bare UPDATE let two parallel attempts both see the later value:
    none saw exactly the cap, so the lock was never recorded and one code fewer was evaluated.)
    """
    for _ in range(2):
        with transaction.atomic():
            state = UserMFAState.objects.select_for_update().filter(user=user).values_list("pk", "failure_count")
            row = state.first()
            if row is not None:
                UserMFAState.objects.filter(pk=row[0]).update(
                    failure_count=F("failure_count") + 1, updated=timezone.now()
                )
                return row[1] + 1
        _state_queryset(user)  # first attempt ever: create the row, then count under its lock
    raise RuntimeError("mfa_oauth: could not create the lock state row")  # pragma: no cover


def lock_if_capped(user, count: int) -> bool:
    """Mark the state locked when ``count`` reached the cap; True only for the request that locked it."""
    if count < mfa_settings.MAX_FAILED_ATTEMPTS:
        return False
    return bool(UserMFAState.objects.filter(user=user, locked_at__isnull=True).update(locked_at=timezone.now()))


def reset(user) -> None:
    UserMFAState.objects.filter(user=user).update(failure_count=0, locked_at=None, updated=timezone.now())


def unlock(user) -> None:
    reset(user)
