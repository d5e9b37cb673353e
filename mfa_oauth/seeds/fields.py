"""The ``key`` column of every OTP device, sealed on the way to the database.

The value on the model instance stays the clear hex seed, so django-otp's ``Device`` API works as
it is (``key``, ``bin_key``, ``verify_token``, ``config_url``, the admin's forms and validators):
conversion happens only at Django's documented value-conversion hooks of a custom field
("How to create custom model fields": ``from_db_value`` and ``get_db_prep_value``). Every ORM
write goes through ``get_db_prep_value`` (``save``, ``create``, ``bulk_create``, ``bulk_update``,
``update(key=...)``), so no path writes a clear seed; exact lookups (``filter(key=hex)``) match the
rows sealed under the current key, because AES-SIV is deterministic.

``OATHTOTPDevice`` declares the field itself. django-otp's ``TOTPDevice`` and ``HOTPDevice`` are not
ours, and Django has no documented hook to change a third-party model's field, so
:func:`seal_key_field` swaps the class of their ``key`` field at ``AppConfig.ready()`` (all models
loaded, no query run yet). The swap adds conversion only: the column, the validators and the
deconstruction stay django-otp's, so its migrations and ``makemigrations --check`` are unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from .keyring import UnreadableSeed, is_sealed, keyring

logger = logging.getLogger("mfa_oauth.seeds")


class SealedSeedField(models.CharField):
    """A CharField holding a hex OTP seed, stored sealed (``keyring.py``)."""

    def seal_label(self) -> str:
        return self.model._meta.label_lower

    def from_db_value(self, value, expression, connection):
        if not is_sealed(value):
            return value  # NULL, or a clear seed an older version wrote (sealed by mfa_rotate_seeds)
        try:
            return keyring().unseal(value, self.seal_label())
        except UnreadableSeed:
            # Kept sealed: not hex, so django-otp's bin_key raises and the device accepts no code,
            # and a save() writes the same value back instead of losing it. The operator restores
            # the key that opens it (docs/security.md, "OTP seeds at rest").
            logger.error(
                "An OTP seed of %s cannot be decrypted with any MFA_OAUTH['SEED_KEYS'] key; "
                "run `manage.py mfa_rotate_seeds --check`.",
                self.seal_label(),
            )
            return value

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or is_sealed(value):
            return value
        return keyring().seal(value, self.seal_label())

    def value_to_string(self, obj: Any) -> str:
        # dumpdata writes the sealed value (backups hold no clear seed); loaddata stores it as is.
        value = self.value_from_object(obj)
        return value if value is None or is_sealed(value) else keyring().seal(value, self.seal_label())

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        # The schema is a plain CharField: migrations (and their historical models) see raw values.
        return name, "django.db.models.CharField", args, kwargs


def seal_key_field(model: type[models.Model], name: str = "key") -> None:
    """Make ``model.<name>`` a :class:`SealedSeedField` (idempotent)."""
    field = model._meta.get_field(name)
    if isinstance(field, SealedSeedField):
        return
    if type(field) is not models.CharField:
        raise ImproperlyConfigured(
            f"{model._meta.label}.{name} is a {type(field).__name__}, not django-otp's CharField; "
            "mfa_oauth cannot seal its OTP seeds."
        )
    field.__class__ = SealedSeedField


def seal_device_keys() -> None:
    """Seal the ``key`` of django-otp's TOTP and HOTP devices, for the plugins that are installed."""
    from django.apps import apps

    for app_label, model_name in (("otp_totp", "TOTPDevice"), ("otp_hotp", "HOTPDevice")):
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        seal_key_field(model)
