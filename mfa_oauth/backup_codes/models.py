from __future__ import annotations

import secrets

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from ..conf import settings as mfa_settings
from ..methods import Method
from . import hashing

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: no 0/1/8/9 to confuse
LOOKUP_LENGTH = 4  # non-secret: finds the row, so a check costs one hash
SECRET_LENGTH = 16  # 80 bits
CODE_PATTERN = rf"[a-z2-7]{{{LOOKUP_LENGTH + SECRET_LENGTH}}}"


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """One per user; its codes are replaced as a set."""

    mfa_method = Method("backup_code", _("Backup code"), ("otp",), token_pattern=CODE_PATTERN)

    class Meta:
        verbose_name = _("backup code set")

    def get_throttle_factor(self) -> int:
        return int(mfa_settings.BACKUP_CODE_THROTTLE_FACTOR)

    @property
    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def regenerate(self, count: int) -> list[str]:
        """Replace the whole set; returns the new codes, the only time they exist in clear."""
        plain: list[str] = []
        lookups: set[str] = set()
        rows = []
        while len(plain) < count:
            lookup = "".join(secrets.choice(ALPHABET) for _ in range(LOOKUP_LENGTH))
            if lookup in lookups:
                continue
            lookups.add(lookup)
            secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
            plain.append(format_code(lookup + secret))
            rows.append(BackupCode(device=self, lookup=lookup, hash=hashing.make(secret)))
        with transaction.atomic():
            self.codes.all().delete()
            BackupCode.objects.bulk_create(rows)
        return plain

    def verify_token(self, token: str) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        token = token.lower().replace("-", "").replace(" ", "")
        lookup, secret = token[:LOOKUP_LENGTH], token[LOOKUP_LENGTH:]
        code = self.codes.filter(lookup=lookup, used_at__isnull=True).first()
        ok = hashing.check(secret, code.hash if code else hashing.DUMMY) and code is not None
        # The conditional update makes a code single-use even under concurrent requests.
        claimed = (
            ok
            and code is not None
            and BackupCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now())
        )
        if claimed:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    lookup = models.CharField(max_length=LOOKUP_LENGTH)
    hash = models.CharField(max_length=200)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "lookup"], name="backup_code_lookup_unique")]

    def __str__(self) -> str:
        return f"{self.lookup}… ({'used' if self.used_at else 'unused'})"
