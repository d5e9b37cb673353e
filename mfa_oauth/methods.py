"""What each kind of django-otp device is worth: its method name, amr values and level.

Factor plugins describe themselves with a ``mfa_method`` attribute on their Device class
(a :class:`Method`); django-otp's own TOTP and HOTP devices are described here. ``verify/``
uses nothing but this and the django-otp ``Device`` API, so it knows no factor by name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django_otp import devices_for_user
from django_otp.models import Device

from .context import LEVEL_MFA, Factor


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    amr: tuple[str, ...]
    level: int = LEVEL_MFA
    # Asks the server to send something (an SMS) before the user can answer.
    sends_challenge: bool = False
    # Answered with a typed code (as opposed to a WebAuthn assertion).
    takes_code: bool = True
    # What a typed code looks like once spaces and dashes are removed.
    token_pattern: str = r"\d{6,8}"
    # A template the challenge page includes for this method instead of the plain code form.
    challenge_template: str = ""


_BUILTIN = {
    "otp_totp.totpdevice": Method("totp", "Authenticator app", ("otp",)),
    # RFC 8176: a hardware OTP token proves possession of a hardware-secured key as well.
    "otp_hotp.hotpdevice": Method("hotp", "Hardware token", ("otp", "hwk")),
}


def method_of(device: Device) -> Method:
    described = getattr(device, "mfa_method", None)
    if isinstance(described, Method):
        return described
    try:
        return _BUILTIN[device.model_label()]
    except KeyError:
        return Method(device.model_label(), device._meta.verbose_name.capitalize(), ("otp",))


def factor_for(device: Device, at: int | None = None) -> Factor:
    """The factor a successful verification with ``device`` earns.

    A device may refine it after a verification (WebAuthn's user-verification flag) through
    a ``verified_factor()`` method."""
    refine = getattr(device, "verified_factor", None)
    if callable(refine):
        return refine()
    method = method_of(device)
    return Factor(
        method=method.name,
        amr=method.amr,
        level=method.level,
        at=at or int(time.time()),
        device=device.persistent_id,
    )


def confirmed_devices(user) -> list[Device]:
    """The user's usable second factors, one query per installed device model."""
    return list(devices_for_user(user, confirmed=True))


def has_second_factor(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))
