"""What each kind of django-otp device is worth: its method name, amr values and level.

Factor plugins describe themselves with a ``mfa_method`` attribute on their Device class
(a :class:`Method`); django-otp's own TOTP and HOTP devices are described here. ``verify/``
uses nothing but this and the django-otp ``Device`` API, so it knows no factor by name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.apps import apps
from django.db.models import IntegerField, QuerySet, Value
from django_otp import device_classes
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
    """The user's usable second factors, in django-otp's ``devices_for_user`` order.

    One query finds which device types the user has (a UNION over every installed device table),
    then one query per type present: a TOTP-only user costs 2 statements however many factor
    plugins are installed, where django-otp's ``devices_for_user`` costs one per plugin."""
    if not getattr(user, "is_authenticated", False):
        return []
    querysets = _confirmed_querysets(user)
    present = set(_types_present(querysets))
    return [device for index, queryset in enumerate(querysets) if index in present for device in queryset]


def has_second_factor(user) -> bool:
    """Whether the user has any usable second factor: one statement."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(_types_present(_confirmed_querysets(user), limit=1))


def confirmed_device(user, persistent_id: str) -> Device | None:
    """One of the user's usable second factors by its persistent id (one statement), or None.

    ``for_verify`` loads it with ``select_for_update`` (inside a transaction), as django-otp's
    ``Device.from_persistent_id(..., for_verify=True)`` does."""
    if not getattr(user, "is_authenticated", False) or not isinstance(persistent_id, str):
        return None
    try:
        label, pk = persistent_id.rsplit("/", 1)
        model = apps.get_model(label)
        pk = int(pk)
    except (ValueError, LookupError):
        return None
    if not issubclass(model, Device) or model._meta.proxy or not 0 < pk < 2**63:
        return None
    return model.objects.devices_for_user(user, confirmed=True).filter(pk=pk).first()


def _confirmed_querysets(user) -> list[QuerySet]:
    # Each model's own devices_for_user (django-otp's per-model hook), so plugins that widen or
    # narrow "usable" (mfa_oauth.sms: operator-assigned numbers) are honoured.
    return [model.objects.devices_for_user(user, confirmed=True) for model in device_classes()]


def _types_present(querysets: list[QuerySet], limit: int | None = None) -> list[int]:
    tagged = [
        queryset.order_by().annotate(mfa_type=Value(index, IntegerField())).values_list("mfa_type", flat=True)
        for index, queryset in enumerate(querysets)
    ]
    if not tagged:
        return []
    combined = tagged[0].union(*tagged[1:]) if len(tagged) > 1 else tagged[0].distinct()
    return list(combined[:limit] if limit else combined)
