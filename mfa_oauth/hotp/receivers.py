"""A bounded look-ahead window for django-otp's HOTPDevice, whatever path wrote the row.

``HOTPDevice.verify_token`` accepts any code from ``counter`` to ``counter + tolerance`` and then
moves the counter past it (that is its resynchronisation, RFC 4226 §7.4). ``tolerance`` is a
plain integer field, so a row written by a shell or a fixture could open a huge window; clamping it
on load (post_init, before any verification) and on save keeps every window at most
MFA_OAUTH["HOTP_MAX_TOLERANCE"]. The admin form refuses larger values with a message.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_init, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_hotp.models import HOTPDevice

from ..conf import settings as mfa_settings


def max_tolerance() -> int:
    return max(0, int(mfa_settings.HOTP_MAX_TOLERANCE))


@receiver(post_init, sender=HOTPDevice, dispatch_uid="mfa_oauth.hotp.bound_on_load")
def bound_on_load(sender: Any, instance: HOTPDevice, **kwargs: Any) -> None:
    bound = max_tolerance()
    if instance.tolerance is not None and instance.tolerance > bound:
        instance.tolerance = bound


@receiver(pre_save, sender=HOTPDevice, dispatch_uid="mfa_oauth.hotp.bound_on_save")
def bound_on_save(sender: Any, instance: HOTPDevice, **kwargs: Any) -> None:
    bound_on_load(sender, instance)
