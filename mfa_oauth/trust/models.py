"""Which clients allow remembered browsers, and which browsers a user trusts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class BrowserTrustPolicy(models.Model):
    """Per client: may a remembered browser stand in for the second factor, and for how long.

    No row, or 0 days, means off (the default)."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="browser_trust"
    )
    remember_days = models.PositiveSmallIntegerField(
        _("remember browsers for (days)"),
        default=0,
        help_text=_("0: never. Capped by MFA_OAUTH['TRUSTED_BROWSER_MAX_DAYS']."),
    )

    class Meta:
        verbose_name = _("remembered-browser policy")
        verbose_name_plural = _("remembered-browser policies")

    def __str__(self) -> str:
        return f"{self.application}: {self.remember_days} days"


class TrustedBrowserQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(expires_at__gt=timezone.now())


class TrustedBrowser(models.Model):
    """One browser a user chose to trust, and the second factor that established the trust.

    The cookie carries only this row's id, signed and bound to the user; deleting the row
    revokes the cookie ("forget all browsers", the admin action, or expiry)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_browsers")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # The factor that established the trust: reported again (amr) whenever the trust is used.
    method = models.CharField(max_length=32)
    amr = models.JSONField(default=list)
    level = models.PositiveSmallIntegerField()
    verified_at = models.DateTimeField()
    device = models.CharField(max_length=255, blank=True)
    label = models.CharField(_("browser"), max_length=200, blank=True)

    objects = TrustedBrowserQuerySet.as_manager()

    class Meta:
        verbose_name = _("remembered browser")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.label or self.pk} until {self.expires_at:%Y-%m-%d}"
