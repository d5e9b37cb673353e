"""TOTP with SHA-256 / SHA-512 (RFC 6238 §1.2), for hardware TOTP tokens and imported secrets.

django-otp's ``TOTPDevice`` computes HMAC-SHA-1 only, which is what authenticator apps use, so users
still enroll apps on it. Tokens that ship with a SHA-256/512 seed are enrolled here by an operator; the
device plugs into django-otp's ``Device`` API (throttling, timestamps) like any other factor, with the
same rules: a bounded window, each step accepted once and never an older step after a newer one.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
from binascii import unhexlify
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.util import hex_validator, random_hex

from ..conf import settings as mfa_settings
from ..methods import Method
from ..seeds.fields import SealedSeedField

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hotp(key: bytes, counter: int, digits: int, digest: Any = hashlib.sha1) -> int:
    """RFC 4226 §5.3 with the HMAC digest RFC 6238 §1.2 allows (dynamic truncation, then modulo)."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return code % (10**digits)


def validate_key(value: str) -> None:
    hex_validator()(value)
    if not 16 <= len(value) // 2 <= 128:
        raise ValidationError(_("The secret must be 16 to 128 bytes (32 to 256 hex digits)."))


def default_key() -> str:
    return random_hex(32)


class OATHTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    mfa_method = Method("totp", _("TOTP token"), ("otp",))

    # Sealed in the database (mfa_oauth.seeds); clear hex on the instance, as django-otp's devices.
    key = SealedSeedField(
        max_length=256,
        validators=[validate_key],
        default=default_key,
        help_text=_("The token's secret, hex encoded (16 to 128 bytes)."),
    )
    algorithm = models.CharField(max_length=6, choices=[(k, k.upper()) for k in DIGESTS], default="sha256")
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    # One step either way covers network delay and a slightly fast or slow token (RFC 6238 §5.2).
    tolerance = models.PositiveSmallIntegerField(default=1)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("TOTP token (SHA-1/256/512)")
        verbose_name_plural = _("TOTP tokens (SHA-1/256/512)")

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def get_throttle_factor(self) -> int:
        return int(mfa_settings.TOTP_THROTTLE_FACTOR)

    def token_may_match(self, token: str) -> bool:
        """Whether verify_token would accept ``token`` now; saves and counts nothing (mfa_oauth.methods)."""
        return self._matching_step(int(token)) is not None

    def _matching_step(self, value: int) -> int | None:
        digest = DIGESTS[self.algorithm]
        now = (int(time.time()) - self.t0) // self.step
        window = min(self.tolerance, 2)
        for t in range(now - window, now + window + 1):
            # Each step once, and never an older step after a newer one (RFC 6238 §5.2).
            if t > self.last_t and hmac.compare_digest(
                f"{hotp(self.bin_key, t, self.digits, digest):0{self.digits}d}", f"{value:0{self.digits}d}"
            ):
                return t
        return None

    def verify_token(self, token: Any) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(token)
        except (TypeError, ValueError):
            self.throttle_increment()
            return False
        t = self._matching_step(value)
        if t is not None:
            self.last_t = t
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False
