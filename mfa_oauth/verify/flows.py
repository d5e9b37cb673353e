"""The challenge step's logic, independent of any view: check a code, record the factor.

Talks to factors only through the django-otp ``Device`` API and :mod:`mfa_oauth.methods`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from django.db import transaction
from django_otp import login as otp_login
from django_otp.models import Device

from .. import lockout, pending
from ..context import AuthContext, Factor, add_factor, get_context
from ..lookups import INTEGER_MARKER, CompiledLookup
from ..methods import factor_for, method_of, token_may_match
from ..seeds.keyring import seed_unreadable
from ..signals import second_factor_failed, second_factor_verified


class Status(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"
    LOCKED = "locked"
    MALFORMED = "malformed"
    # A password-only session past PENDING_MFA_TIMEOUT: it starts again from the password.
    EXPIRED = "expired"
    # The device cannot check codes now (its OTP seed opens with no configured key): nothing counted.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Attempt:
    status: Status
    retry_after: int | None = None
    context: AuthContext | None = None
    # For LOCKED: the running lock (its end, for the page to say until when).
    lock: lockout.LockState | None = None


def normalize_token(device: Device, raw: str) -> str | None:
    """Strip what people type around a code; None when it cannot be a code for this device."""
    pattern = method_of(device).token_pattern
    token = re.sub(r"[\s-]", "", raw or "")
    if not token or len(token) > 64 or not re.fullmatch(pattern, token, flags=re.ASCII | re.IGNORECASE):
        return None
    return token


def code_ready(request, device: Device) -> bool:
    """Whether a typed code can answer ``device`` now: a factor that sends its code (SMS) only once
    one was sent for this login attempt (its ``challenge_sent_for_request``)."""
    if not method_of(device).sends_challenge:
        return True
    sent = getattr(device, "challenge_sent_for_request", None)
    return bool(sent(request)) if callable(sent) else True


def pick_device(candidates: list[Device], raw_token: str) -> Device | None:
    """The one device of ``candidates`` that checks ``raw_token``; None when it fits none's shape.

    The shape decides between kinds (a backup code is 20 letters and digits, an app's code 6 to 8
    digits), so a backup code still costs one slow hash. Among devices of the same shape the one
    that would accept the code (:func:`~mfa_oauth.methods.token_may_match`, nothing saved) is chosen;
    a throttled one answers for all of them, so a second device gives no extra guesses (RFC 4226 §7.3)."""
    shaped = [(device, token) for device in candidates if (token := normalize_token(device, raw_token)) is not None]
    if len(shaped) <= 1:
        return shaped[0][0] if shaped else None
    for device, _token in shaped:
        if not device.verify_is_allowed()[0]:
            return device
    unknown = None
    for device, token in shaped:
        match = token_may_match(device, token)
        if match:
            return device
        if match is None and unknown is None:
            unknown = device
    # No device says yes: one that can only tell by checking (an SMS sent), else the first one,
    # whose failure is then counted as usual.
    return unknown or shaped[0][0]


# The device reloaded under the row lock on every attempt: the same statement for each device model
# but for the pk, compiled once per process (mfa_oauth.lookups.CompiledLookup; a plugin whose pk is
# not an integer is read through the ORM).
_device_under_lock = CompiledLookup(
    lambda model, pk: model.objects.select_for_update().filter(pk=pk), markers=(INTEGER_MARKER,), prepare=(int,)
)


def verify(request, device: Device, raw_token: str) -> Attempt:
    user = request.user
    if pending.expired(get_context(request)):
        # Before the code is looked at: an expired session spends no code and counts no failure.
        return Attempt(Status.EXPIRED)
    allowed, info = device.verify_is_allowed()
    if not allowed:
        lock = lockout.state(user)  # a running lock is the longer wait: say that one
        if lock.locked:
            return Attempt(Status.LOCKED, lock=lock)
        return Attempt(Status.THROTTLED, retry_after=_retry_after(info))
    if seed_unreadable(device):
        # The operator's key problem, not a wrong code: no failure is counted against the user.
        return Attempt(Status.UNAVAILABLE)
    token = normalize_token(device, raw_token)
    if token is None:
        return Attempt(Status.MALFORMED)
    new_lock = None
    with transaction.atomic():
        # The user's lock-state row is held until the outcome is recorded, so the attempts of one
        # user run one at a time and never outrun the cap (A2); a locked user's code is not looked at.
        held = lockout.hold(user)
        if held.locked:
            return Attempt(Status.LOCKED, lock=held)
        # Reloaded under the locks: "one valid code, two concurrent requests" succeeds exactly once.
        locked = _device_under_lock.get(device.pk, key=type(device))
        if locked is None:  # deleted meanwhile
            return Attempt(Status.WRONG)
        # A device whose codes are bound to the login attempt (SMS) needs the request to check one.
        check = getattr(locked, "verify_token_for_request", None)
        ok = check(request, token) if callable(check) else locked.verify_token(token)
        if ok:
            if not held.clean:  # a success ends the count, the window and the escalation (A4)
                lockout.reset(user)
        else:
            new_lock = lockout.record_failure(user, held)
    if ok:
        try:
            context = complete(request, locked)
        except pending.PendingSessionExpired:  # the limit passed while the code was being checked
            return Attempt(Status.EXPIRED)
        return Attempt(Status.OK, context=context)

    method = method_of(device).name
    second_factor_failed.send(sender=type(device), request=request, user=user, device=device, method=method)
    if new_lock is not None:
        lockout.announce(user, new_lock, request=request, sender=type(device))
        return Attempt(Status.LOCKED, lock=new_lock)
    return Attempt(Status.WRONG)


def complete(request, device: Device, factor: Factor | None = None) -> AuthContext:
    """Record a verified second factor in the session (also used by non-code factors).

    Every factor is recorded here, so the half-authenticated state's limit is enforced here: a
    password-only session past PENDING_MFA_TIMEOUT raises :class:`~mfa_oauth.pending.PendingSessionExpired`
    and nothing is recorded (docs/security.md, "The half-authenticated state")."""
    if pending.expired(get_context(request)):
        raise pending.PendingSessionExpired
    factor = factor or factor_for(device)
    otp_login(request, device)
    context = add_factor(request, factor)
    if hasattr(device, "set_last_used_timestamp") and not _just_used(device):
        device.set_last_used_timestamp()
    second_factor_verified.send(
        sender=type(device), request=request, user=request.user, device=device, method=factor.method, context=context
    )
    return context


def _just_used(device: Device) -> bool:
    # django-otp's TOTP/HOTP verify_token already stamped and saved it: spare a second UPDATE.
    from django.utils import timezone

    last = getattr(device, "last_used_at", None)
    return last is not None and abs((timezone.now() - last).total_seconds()) < 5


def throttle_message(seconds: int | None) -> str:
    """What a throttled code check tells the person: that it is a pause against guessing, and how long.

    django-otp's ThrottlingMixin doubles the wait after each wrong code (RFC 4226 §7.3); a right code
    typed during the wait is not checked, so the message must not read like a wrong code."""
    from django.utils.translation import ngettext

    seconds = max(1, seconds or 1)
    return ngettext(
        "Too many attempts: codes are paused for a moment to stop guessing. Try again in %(seconds)d second.",
        "Too many attempts: codes are paused for a moment to stop guessing. Try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


def retry_after(info) -> int | None:
    """Seconds until django-otp's throttle lets a code be checked again (from verify_is_allowed's info)."""
    return _retry_after(info)


def _retry_after(info) -> int | None:
    from django.utils import timezone

    until = (info or {}).get("locked_until")
    if until is None:
        return None
    return max(1, int((until - timezone.now()).total_seconds()) + 1)
