"""The per-user hard cap on consecutive second-factor failures (SECURITY.md A1-A4).

The challenge step holds the user's lock-state row (``hold``: ``SELECT ... FOR UPDATE`` inside the
attempt's transaction) while it checks a code, so the attempts of one user run one at a time:
parallel attempts from many sessions can neither lose increments nor slip past the cap, and a
locked user's code is never evaluated. A success with no earlier failures writes nothing here.

``claim_attempt`` is the lock-free variant for callers outside a transaction: one conditional
``UPDATE ... SET n = n + 1 WHERE n < cap`` counts an attempt before its code is checked.
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


def hold(user) -> int:
    """Lock the user's state row for the rest of the current transaction; its failure count.

    Must be called inside ``transaction.atomic()`` (on SQLite, whose ``select_for_update`` is a
    no-op, the embedded settings' ``BEGIN IMMEDIATE`` serialises the transaction instead)."""
    rows = UserMFAState.objects.select_for_update().filter(user=user).values_list("failure_count", flat=True)
    count = rows.first()
    if count is None:
        # A first attempt: create the row. A concurrent first attempt may create it first; the
        # conflict is ignored by the database (no savepoint and no IntegrityError to recover from).
        UserMFAState.objects.bulk_create([UserMFAState(user=user)], ignore_conflicts=True)
        count = rows.first() or 0
    return count


def record_failure(user, held_count: int) -> int | None:
    """After a failed attempt under ``hold``: count it, locking at the cap. The count if this locked."""
    count = held_count + 1
    capped = count >= mfa_settings.MAX_FAILED_ATTEMPTS
    now = timezone.now()
    changes = {"failure_count": count, "updated": now}
    if capped:  # held_count < cap, so this is the attempt that reaches it: exactly one locks
        changes["locked_at"] = now
    UserMFAState.objects.filter(user=user).update(**changes)
    return count if capped else None


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
