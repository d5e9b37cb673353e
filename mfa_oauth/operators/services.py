"""Operator actions shared by the admin and the management commands.

Each one sends the same signals as the self-service path, so the audit log and the user's
notifications do not depend on where a change was made.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from django.apps import apps
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .. import lockout
from ..backup_codes import flows as backup_flows
from ..errors import UserFacingError
from ..methods import method_of
from ..signals import factor_added, factor_removed, second_factor_unlocked


class EnrollmentError(UserFacingError):
    """Bad operator input; ``user_message`` says what to fix."""


def sms_installed() -> bool:
    return apps.is_installed("mfa_oauth.sms")


def all_devices(user: Any) -> list:
    """Every device of the user, confirmed or not, of every installed device type."""
    return list(devices_for_user(user, confirmed=None))


def enroll_totp(
    user: Any,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    name: str = "Authenticator app",
    notify: bool = True,
) -> TOTPDevice:
    """A confirmed TOTP device with a fresh random key; the caller shows its QR code once."""
    device = TOTPDevice.objects.create(user=user, name=(name or "Authenticator app")[:64], confirmed=True)
    _added(device, request=request, actor=actor, source="operator", notify=notify)
    return device


def parse_secret(raw: str) -> bytes:
    """A shared secret typed as hex or base32 (spaces, dashes and padding ignored)."""
    text = re.sub(r"[\s-]", "", raw or "").rstrip("=")
    if not text:
        raise EnrollmentError(_("Enter the token's secret (hex or base32)."))
    key: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]+", text) and len(text) % 2 == 0:
        key = bytes.fromhex(text)
    elif re.fullmatch(r"[A-Za-z2-7]+", text):
        try:
            key = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
        except (binascii.Error, ValueError):
            key = None
    if key is None:
        raise EnrollmentError(_("The secret must be hex or base32 characters."))
    # RFC 4226 §4 R6: at least 128 bits; NIST SP 800-63B-4 §3.1.4.1: at least 112.
    if len(key) < 16:
        raise EnrollmentError(_("The secret is too short: at least 128 bits (32 hex or 26 base32 characters)."))
    if len(key) > 40:
        raise EnrollmentError(_("The secret is too long (at most 40 bytes, 80 hex characters)."))
    return key


def enroll_hotp(
    user: Any,
    secret: str,
    *,
    counter: int = 0,
    digits: int = 6,
    name: str = "Hardware token",
    request: HttpRequest | None = None,
    actor: Any = None,
    notify: bool = True,
) -> HOTPDevice:
    key = parse_secret(secret)
    if digits not in (6, 8):
        raise EnrollmentError(_("A token shows 6 or 8 digits."))
    if counter < 0:
        raise EnrollmentError(_("The counter cannot be negative."))
    # Compared on the decrypted seeds (mfa_oauth.seeds), so rows sealed under an older key count too.
    if key.hex() in HOTPDevice.objects.filter(user=user).values_list("key", flat=True):
        raise EnrollmentError(_("This token is already enrolled for this user."))
    device = HOTPDevice.objects.create(
        user=user, name=(name or "Hardware token")[:64], key=key.hex(), digits=digits, counter=counter, confirmed=True
    )
    _added(device, request=request, actor=actor, source="operator", notify=notify)
    return device


def enroll_sms(user, number: str, *, name: str = "", request=None, actor=None, notify: bool = True):
    """An SMS number, unverified: the SMS factor verifies it on first use (NIST SP 800-63B-4 §3.1.3.3)."""
    if not sms_installed():
        raise EnrollmentError(_("SMS is not enabled on this site."))
    from ..sms import api

    try:
        device = api.add_number(user, number, name=name, verified=False)
    except api.InvalidNumber as error:
        raise EnrollmentError(error.user_message) from error
    _added(device, request=request, actor=actor, source="operator", notify=notify)
    return device


def check_sms_number(user: Any, number: str) -> str | None:
    """The E.164 number to enroll for ``user`` (nothing written), None when the user already has
    it, or :class:`EnrollmentError` by the SMS factor's own rules (type, country, another account)."""
    if not sms_installed():
        raise EnrollmentError(_("SMS is not enabled on this site."))
    from ..sms import api

    try:
        return api.check_number(user, number)
    except api.AlreadyEnrolled:
        return None
    except api.InvalidNumber as error:
        raise EnrollmentError(error.user_message) from error


def generate_backup_codes(user: Any, *, request: HttpRequest | None = None) -> list[str]:
    return backup_flows.generate(user, request=request)


def reset(user: Any, *, request: HttpRequest | None = None, actor: Any = None) -> int:
    """Remove every second factor of ``user`` and clear the lock; returns how many were removed."""
    removed = []
    with transaction.atomic():
        for device in all_devices(user):
            pk = device.pk
            device.delete()
            device.pk = pk  # Django clears it on delete; receivers (audit) still name the device
            removed.append(device)
        lockout.reset(user)
    # Announced ones: confirmed, or assigned numbers (announced when the operator entered them).
    for device in (d for d in removed if d.confirmed or getattr(d, "assigned", False)):
        factor_removed.send(
            sender=type(device),
            request=request,
            user=user,
            device=device,
            method=method_of(device).name,
            actor=actor,
            source="operator",
        )
    return len(removed)


def unlock(user: Any, *, request: HttpRequest | None = None, actor: Any = None) -> bool:
    """Clear the failure count and lock; True when the user was locked."""
    was_locked = lockout.is_locked(user)
    lockout.unlock(user)
    for device in all_devices(user):
        if hasattr(device, "throttle_reset"):
            device.throttle_reset()
    second_factor_unlocked.send(sender=type(user), request=request, user=user, unlocked_by=actor)
    return was_locked


def _added(device: Any, *, request: HttpRequest | None, actor: Any, source: str, notify: bool) -> None:
    factor_added.send(
        sender=type(device),
        request=request,
        user=device.user,
        device=device,
        method=method_of(device).name,
        actor=actor,
        source=source,
        notify=notify,
    )
