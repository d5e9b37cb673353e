"""The authentication behind an approved device code (RFC 8628).

The authorization code flow links the code to an AuthenticationRecord (core validators); a device
code is approved in the browser instead, so the record is frozen at approval and linked here. The
token endpoint consumes the link exactly once: a device_code yields one set of tokens.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from mfa_oauth.models import AuthenticationRecord


class DeviceGrantAuthentication(models.Model):
    device_grant = models.OneToOneField(
        oauth2_settings.DEVICE_GRANT_MODEL, on_delete=models.CASCADE, related_name="mfa_authentication"
    )
    record = models.ForeignKey(AuthenticationRecord, on_delete=models.CASCADE, related_name="+")
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("device grant authentication")

    def __str__(self) -> str:
        return f"{self.device_grant_id}: {self.record}"
