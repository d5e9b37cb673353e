"""The per-user cap on consecutive second-factor failures, as escalating timed locks.

Why timed (docs/security.md, "Second-factor lockout"; NIST SP 800-63B-4 §3.2.2): whoever knows the
password can submit wrong codes, so a lock that lasts until an administrator acts lets a guesser lock
the owner out at will. Reaching ``MAX_FAILED_ATTEMPTS`` failures locks the code factors for the next
of ``LOCKOUT_WINDOWS`` (15 min, 1 h, 4 h, 24 h by default); after the window the count restarts and
the next lock lasts longer, until a success or an operator's unlock resets everything. The guesser's
rate stays bounded, and the consecutive failures since the last success never pass the NIST ceiling
of 100: the lock that reaches it has no end. A user-verified WebAuthn assertion, which a guesser
cannot fail, stays usable while codes are locked unless ``PASSKEY_USABLE_WHILE_LOCKED`` is off.

Concurrency (NIST SP 800-63B-4 §3.2.2; RFC 4226 §7.3): the challenge step holds the user's lock-state row (``hold``:
``SELECT ... FOR UPDATE`` inside the attempt's transaction) while it checks a code, so the attempts
of one user run one at a time: parallel attempts from many sessions can neither lose increments nor
slip past the cap, exactly one of them starts a lock, and a locked user's code is never evaluated.
A success with nothing to clear writes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import formats, timesince, timezone
from django.utils.translation import gettext as _

from .conf import DEFAULTS, MAX_FAILED_ATTEMPTS_CEILING
from .conf import settings as mfa_settings
from .context import LEVEL_PHISHING_RESISTANT
from .lookups import INTEGER_MARKER, CompiledLookup
from .models import UserMFAState
from .read_once import ReadOnce

_FIELDS = ("failure_count", "total_failures", "lock_level", "locked_at", "locked_until")


@dataclass(frozen=True)
class LockState:
    """One user's lock state as of one moment."""

    # Failures in the current window (0 once the last window has ended: the count restarts).
    failures: int = 0
    # Consecutive failures since the last success or unlock, over all windows (NIST ceiling: 100).
    total: int = 0
    # Locks since the last success or unlock (which window the next one lasts).
    level: int = 0
    locked: bool = False
    # The end of the running lock; None when not locked, or locked with no end (the ceiling).
    until: datetime | None = None
    # When the last lock started (None: none since the last success or unlock).
    started: datetime | None = None

    @property
    def clean(self) -> bool:
        """Nothing a success would have to reset."""
        return not (self.failures or self.total or self.level or self.started)


def _from_row(values: tuple | None, now: datetime) -> LockState:
    if values is None:
        return LockState()
    count, total, level, started, until = values
    ended = started is not None and until is not None and now >= until
    locked = started is not None and not ended
    return LockState(
        failures=0 if ended else count,
        total=total,
        level=level,
        locked=locked,
        until=until if locked else None,
        started=started,
    )


# Within read_once(): a stretch of one request that changes no lock state (a code is sent, then the
# page saying so is rendered), in which state() reads each user's row once.
_STATES = ReadOnce("mfa_oauth_lock_states_read_once")
read_once = _STATES.scope


def state(user: Any) -> LockState:
    """The user's lock state now: one statement (none again for the same user within :func:`read_once`)."""
    return _STATES.get(getattr(user, "pk", None), lambda: _read_state(user))


# Both reads run on every challenge page and attempt, always the same statement but for the user's
# pk: compiled once per process (mfa_oauth.lookups.CompiledLookup). One row per user (one-to-one).
_row_of = CompiledLookup(
    lambda _key, user_pk: UserMFAState.objects.filter(user_id=user_pk), markers=(INTEGER_MARKER,), prepare=(int,)
)
_held_row_of = CompiledLookup(
    lambda _key, user_pk: UserMFAState.objects.select_for_update().filter(user_id=user_pk),
    markers=(INTEGER_MARKER,),
    prepare=(int,),
)


def _values(row: UserMFAState | None) -> tuple | None:
    return None if row is None else tuple(getattr(row, name) for name in _FIELDS)


def _read_state(user: Any) -> LockState:
    return _from_row(_values(_row_of.get(user.pk)), timezone.now())


def failure_count(user: Any) -> int:
    return state(user).failures


def is_locked(user: Any) -> bool:
    return state(user).locked


def locked_now() -> Q:
    """A filter on UserMFAState for the rows whose lock is running now (the operators' overview)."""
    return Q(locked_at__isnull=False) & (Q(locked_until__isnull=True) | Q(locked_until__gt=timezone.now()))


def valid_windows(value: Any) -> bool:
    """A non-empty list or tuple of positive whole seconds (the system check's rule, mfa_oauth.E030)."""
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )


def windows() -> tuple[int, ...]:
    """LOCKOUT_WINDOWS in seconds; the documented defaults when the setting is unusable (the
    system check reports it), never a lock without an end by misconfiguration."""
    configured = mfa_settings.LOCKOUT_WINDOWS
    return tuple(configured) if valid_windows(configured) else tuple(DEFAULTS["LOCKOUT_WINDOWS"])


def window(level: int) -> timedelta:
    """How long the ``level``-th lock since the last success lasts (1-based; the last one repeats)."""
    seconds = windows()
    return timedelta(seconds=seconds[min(max(level, 1), len(seconds)) - 1])


def passkey_usable() -> bool:
    return bool(mfa_settings.PASSKEY_USABLE_WHILE_LOCKED)


def usable_while_locked(method: Any) -> bool:
    """Whether factors of this :class:`mfa_oauth.methods.Method` may still be offered while codes
    are locked: phishing-resistant ones answered by a signature, not a typed code (WebAuthn). The
    ceremony itself then demands user verification."""
    return passkey_usable() and not method.takes_code and method.level >= LEVEL_PHISHING_RESISTANT


def message(lock: LockState, *, passkey: bool | None = None) -> str:
    """What the user is told about a running lock: that codes are locked, and until when."""
    passkey = passkey_usable() if passkey is None else passkey
    if lock.until is None:
        if passkey:
            return _(
                "Too many wrong codes: your codes are locked until an administrator unlocks them. "
                "You can still use a security key or passkey with its PIN or biometric."
            )
        return _("Too many wrong codes: your second factor is locked until an administrator unlocks it.")
    values = {"until": format_time(lock.until), "wait": timesince.timeuntil(lock.until)}
    if passkey:
        return (
            _(
                "Too many wrong codes: your codes are locked until %(until)s (in %(wait)s). "
                "You can still use a security key or passkey with its PIN or biometric."
            )
            % values
        )
    return _("Too many wrong codes: your second factor is locked until %(until)s (in %(wait)s).") % values


def format_time(moment: datetime) -> str:
    """A moment in the active language's format and the current time zone, with the zone's name."""
    local = timezone.localtime(moment)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname() or ''}".strip()


# --- changes, under the row lock ---------------------------------------------------------------


def hold(user: Any) -> LockState:
    """Lock the user's state row for the rest of the current transaction; its state.

    Must be called inside ``transaction.atomic()`` (on SQLite, whose ``select_for_update`` is a
    no-op, the embedded settings' ``BEGIN IMMEDIATE`` serialises the transaction instead)."""
    values = _values(_held_row_of.get(user.pk))
    if values is None:
        # A first attempt: create the row. A concurrent first attempt may create it first; the
        # conflict is ignored by the database (no savepoint and no IntegrityError to recover from).
        UserMFAState.objects.bulk_create([UserMFAState(user=user)], ignore_conflicts=True)
        values = _values(_held_row_of.get(user.pk))
    return _from_row(values, timezone.now())


def record_failure(user: Any, held: LockState) -> LockState | None:
    """After a failed attempt under ``hold`` (of a user who was not locked): count it. The new
    lock when this failure started one, else None; exactly one attempt starts each lock."""
    now = timezone.now()
    failures, total = held.failures + 1, held.total + 1
    changes = {"failure_count": failures, "total_failures": total, "updated": now}
    # NIST SP 800-63B-4 §3.2.2: no more than 100 consecutive failures, however the windows run.
    at_ceiling = total >= MAX_FAILED_ATTEMPTS_CEILING
    if failures >= mfa_settings.MAX_FAILED_ATTEMPTS or at_ceiling:
        level = held.level + 1
        until = None if at_ceiling else now + window(level)
        changes.update(lock_level=level, locked_at=now, locked_until=until)
        UserMFAState.objects.filter(user=user).update(**changes)
        return LockState(failures, total, level, True, until, now)
    if held.started is not None:  # the last window ended: this failure opened a new count
        changes.update(locked_at=None, locked_until=None)
    UserMFAState.objects.filter(user=user).update(**changes)
    return None


def claim_attempt(user: Any) -> bool:
    """Count one failed attempt outside a caller's transaction; False when the user is locked
    (nothing counted). A lock it starts is announced like the challenge step's."""
    with transaction.atomic():
        held = hold(user)
        if held.locked:
            return False
        lock = record_failure(user, held)
    if lock is not None:
        announce(user, lock)
    return True


def announce(user: Any, lock: LockState, *, request: HttpRequest | None = None, sender: Any = None) -> None:
    """Send ``second_factor_locked`` for a lock that just started (audit row, owner's e-mail)."""
    from .methods import confirmed_devices, method_of
    from .signals import second_factor_locked

    # Whether this user has a factor that still works: the e-mail tells them so (a lock is rare,
    # so the device lookup costs nothing on the attempts that do not start one).
    usable = passkey_usable() and any(usable_while_locked(method_of(d)) for d in confirmed_devices(user))
    second_factor_locked.send(
        sender=sender or UserMFAState,
        request=request,
        user=user,
        failure_count=lock.failures,
        locked_until=lock.until,
        level=lock.level,
        passkey_usable=usable,
    )


def reset(user: Any) -> None:
    """A success or an operator's unlock: the count, the running lock and the escalation end."""
    UserMFAState.objects.filter(user=user).update(
        failure_count=0, total_failures=0, lock_level=0, locked_at=None, locked_until=None, updated=timezone.now()
    )


def unlock(user: Any) -> None:
    reset(user)
