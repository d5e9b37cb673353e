"""Admin enrollment of HOTP hardware tokens on django-otp's own HOTPDevice admin.

django-otp registers ``HOTPDeviceAdmin``; we replace it with a subclass whose form checks what a
token's vendor hands over: the secret (hex, at least 128 bits: RFC 4226 §4 R6), the digits and a
look-ahead window no larger than MFA_OAUTH["HOTP_MAX_TOLERANCE"]. Everything else (list, search,
QR code views) is django-otp's.
"""

from __future__ import annotations

import binascii

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django_otp.plugins.otp_hotp.admin import HOTPDeviceAdmin
from django_otp.plugins.otp_hotp.models import HOTPDevice

from .receivers import max_tolerance

MIN_KEY_BYTES = 16


class HOTPDeviceForm(forms.ModelForm):
    class Meta:
        model = HOTPDevice
        fields = [
            "user",
            "name",
            "confirmed",
            "key",
            "digits",
            "tolerance",
            "counter",
            "throttling_failure_timestamp",
            "throttling_failure_count",
        ]
        help_texts = {
            "key": "The token's secret in hex (from the vendor's seed file), at least 32 hex digits. "
            "A base32 secret converts with: python -c \"import base64;print(base64.b32decode('SECRET').hex())\"",
            "tolerance": "How many presses ahead of the server's counter a code is still accepted (resynchronises).",
            "counter": "The next counter value to expect; 0 for a new token.",
        }

    def clean_key(self) -> str:
        key = "".join((self.cleaned_data.get("key") or "").split()).lower()
        try:
            raw = binascii.unhexlify(key)
        except (binascii.Error, ValueError) as error:
            raise forms.ValidationError(_("The secret must be hexadecimal (0-9, a-f) with an even length.")) from error
        if len(raw) < MIN_KEY_BYTES:
            raise forms.ValidationError(
                _("The secret is too short: at least %(n)d bytes (%(h)d hex digits).")
                % {"n": MIN_KEY_BYTES, "h": MIN_KEY_BYTES * 2}
            )
        return key

    def clean_tolerance(self) -> int | None:
        tolerance = self.cleaned_data.get("tolerance")
        if tolerance is not None and tolerance > max_tolerance():
            raise forms.ValidationError(
                _("At most %(max)d: a wider window makes codes easier to guess.") % {"max": max_tolerance()}
            )
        return tolerance


class BoundedHOTPDeviceAdmin(HOTPDeviceAdmin):
    form = HOTPDeviceForm


if admin.site.is_registered(HOTPDevice):
    admin.site.unregister(HOTPDevice)
admin.site.register(HOTPDevice, BoundedHOTPDeviceAdmin)
