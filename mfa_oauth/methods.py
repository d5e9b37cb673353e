"""What each kind of django-otp device is worth: its method name, amr values and level.

Factor plugins describe themselves with a ``mfa_method`` attribute on their Device class
(a :class:`Method`); django-otp's own TOTP and HOTP devices are described here. ``verify/``
uses nothing but this and the django-otp ``Device`` API, so it knows no factor by name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.apps import apps
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import IntegerField, QuerySet, Value
from django.dispatch import receiver
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_otp import device_classes
from django_otp.models import Device

from .context import LEVEL_MFA, Factor
from .read_once import ReadOnce


@dataclass(frozen=True)
class Method:
    name: str
    label: str | Promise  # a lazy translation: resolved in the language of the page or mail
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
    "otp_totp.totpdevice": Method("totp", _("Authenticator app"), ("otp",)),
    # RFC 8176: a hardware OTP token proves possession of a hardware-secured key as well.
    "otp_hotp.hotpdevice": Method("hotp", _("Hardware token"), ("otp", "hwk")),
}


def method_of(device: Device) -> Method:
    described = getattr(device, "mfa_method", None)
    if isinstance(described, Method):
        return described
    try:
        return _BUILTIN[device.model_label()]
    except KeyError:
        return Method(device.model_label(), str(device._meta.verbose_name).capitalize(), ("otp",))


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


# Within devices_read_once(): a stretch of one request in which nothing adds, removes or confirms a
# device, so the list read once holds throughout (by user pk).
_DEVICES = ReadOnce("mfa_oauth_devices_read_once")
# Within the block, confirmed_devices() reads each user's devices once (a login's gate decision and the
# challenge page it is answered with: mfa_oauth.oauth.after_login).
devices_read_once = _DEVICES.scope


def confirmed_devices(user: Any) -> list[Device]:
    """The user's usable second factors, in django-otp's ``devices_for_user`` order.

    One query finds which device types the user has (a UNION over every installed device table),
    then one query per type present: a TOTP-only user costs 2 statements however many factor
    plugins are installed, where django-otp's ``devices_for_user`` costs one per plugin."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(_DEVICES.get(user.pk, lambda: _confirmed_devices(user)))


def _confirmed_devices(user) -> list[Device]:
    models = list(device_classes())
    present = set(_types_present(user, models))
    return [
        device
        for index, model in enumerate(models)
        if index in present
        for device in _fetch(
            ("devices", model._meta.label),
            partial(_confirmed_of, model),
            user,
        )
    ]


def _confirmed_of(model: Any, user: Any) -> Any:
    return model.objects.devices_for_user(user, confirmed=True)


def has_second_factor(user: Any) -> bool:
    """Whether the user has any usable second factor: one statement."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(_types_present(user, list(device_classes()), limit=1))


def confirmed_device(user: Any, persistent_id: str) -> Device | None:
    """One of the user's usable second factors by its persistent id (one statement), or None."""
    if not getattr(user, "is_authenticated", False) or not isinstance(persistent_id, str):
        return None
    try:
        label, raw_pk = persistent_id.rsplit("/", 1)
        model = apps.get_model(label)
        pk = int(raw_pk)  # one name per type: the text of the id, then the number
    except (ValueError, LookupError):
        return None
    if not issubclass(model, Device) or model._meta.proxy or not 0 < pk < 2**63:
        return None
    compiled = (
        _compile(
            ("device", model._meta.label),
            lambda u: model.objects.devices_for_user(u, confirmed=True).filter(pk=_STAND_IN_DEVICE_PK),
            user,
        )
        if _compilable(user)
        else None
    )
    if compiled is None:
        return model.objects.devices_for_user(user, confirmed=True).filter(pk=pk).first()
    alias, sql, params = compiled
    found = list(model.objects.db_manager(alias).raw(sql, _bind(params, user.pk, pk)))
    return found[0] if found else None


# These statements are the same for every user but for the user's pk; Django spends milliseconds
# building and compiling them (a dozen querysets; the SMS plugin's NOT EXISTS per device type), so
# each is compiled once per process with stand-in pks and the real ones swapped into its parameters.
_STAND_IN_PK = -1_093_517_231  # within a 32-bit integer column (PostgreSQL checks the range)
_STAND_IN_DEVICE_PK = -1_093_517_232
_compiled: dict[tuple, tuple[str, str, list] | None] = {}


def _compile(key: tuple, build: Callable[[Any], QuerySet], user: Any) -> tuple[str, str, list] | None:
    """(alias, sql, params) of ``build(stand-in user)``; None where a plugin does not filter by pk."""
    if key not in _compiled:
        queryset = build(user._meta.model(pk=_STAND_IN_PK))
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        _compiled[key] = (queryset.db, sql, list(params)) if _STAND_IN_PK in params else None
    return _compiled[key]


def _bind(params: list, user_pk: int, device_pk: int | None) -> list:
    swap = {_STAND_IN_PK: user_pk, _STAND_IN_DEVICE_PK: device_pk}
    return [swap[p] if type(p) is int and p in swap else p for p in params]


def _compilable(user: Any) -> bool:
    pk = user.pk
    return isinstance(pk, int) and not isinstance(pk, bool)  # not a custom user model's UUID pk


def _fetch(key: tuple, build: Callable[[Any], QuerySet], user: Any) -> list:
    """The model instances of ``build(user)``, from the statement compiled once."""
    compiled = _compile(key, build, user) if _compilable(user) else None
    if compiled is None:
        return list(build(user))
    alias, sql, params = compiled
    model = apps.get_model(key[1])
    return list(model.objects.db_manager(alias).raw(sql, _bind(params, user.pk, None)))


def _union(user: Any, models: list, limit: int | None) -> QuerySet:
    # Each model's own devices_for_user (django-otp's per-model hook), so plugins that widen or
    # narrow "usable" (mfa_oauth.sms: operator-assigned numbers) are honoured.
    tagged = [
        model.objects.devices_for_user(user, confirmed=True)
        .order_by()
        .annotate(mfa_type=Value(index, IntegerField()))
        .values_list("mfa_type", flat=True)
        for index, model in enumerate(models)
    ]
    combined = tagged[0].union(*tagged[1:]) if len(tagged) > 1 else tagged[0].distinct()
    return combined[:limit] if limit else combined


def _types_present(user: Any, models: list, limit: int | None = None) -> list[int]:
    if not models:
        return []
    key = ("types", tuple(m._meta.label for m in models), limit)
    compiled = _compile(key, lambda u: _union(u, models, limit), user) if _compilable(user) else None
    if compiled is None:
        return list(_union(user, models, limit))
    alias, sql, params = compiled
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, _bind(params, user.pk, None))
        return [row[0] for row in cursor.fetchall()]


@receiver(setting_changed)
def _forget_compiled(**kwargs: Any) -> None:
    # A plugin's devices_for_user may read settings (mfa_oauth.sms: SMS_ENABLED).
    _compiled.clear()


def token_may_match(device: Device, token: str) -> bool | None:
    """Whether ``device`` would accept ``token`` now, computed without saving or counting anything.

    Lets one code field serve all of a user's code factors: the challenge finds which device a code
    belongs to, then checks it on that device alone under the usual locks (``verify.flows``). A
    factor plugin answers through a ``token_may_match(token)`` method; django-otp's TOTP and HOTP
    devices are answered here with django-otp's own ``oath`` functions and the device's replay
    bounds (RFC 6238 §5.2: no step at or before ``last_t``; RFC 4226 §7.2: no counter before
    ``counter``). None: the device cannot tell without checking for real (SMS, backup codes)."""
    own = getattr(device, "token_may_match", None)
    try:
        if callable(own):
            return own(token)
        label = device.model_label()
        if label not in ("otp_totp.totpdevice", "otp_hotp.hotpdevice"):
            return None
        value = int(token)
        oath: Any = device  # a django-otp TOTP/HOTP device (by its label above)
        key = oath.bin_key
    except Exception:  # an unreadable seed or a non-numeric code: let the real check answer
        return None
    from django_otp.oath import TOTP, hotp

    if label == "otp_totp.totpdevice":
        totp = TOTP(key, oath.step, oath.t0, oath.digits, oath.drift)
        totp.time = time.time()
        return bool(totp.verify(value, oath.tolerance, oath.last_t + 1))
    return any(
        hotp(key, counter, oath.digits) == value for counter in range(oath.counter, oath.counter + oath.tolerance + 1)
    )
