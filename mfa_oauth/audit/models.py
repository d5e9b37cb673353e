from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", _("Login (password) succeeded")
    LOGIN_FAILED = "login_failed", _("Login (password) failed")
    CHALLENGE_SENT = "challenge_sent", _("Challenge sent")
    MFA_SUCCEEDED = "mfa_succeeded", _("Second factor succeeded")
    MFA_FAILED = "mfa_failed", _("Second factor failed")
    LOCKED = "locked", _("Second factor locked")
    UNLOCKED = "unlocked", _("Second factor unlocked")
    FACTOR_ADDED = "factor_added", _("Factor added")
    FACTOR_REMOVED = "factor_removed", _("Factor removed")
    FACTOR_RENAMED = "factor_renamed", _("Factor renamed")
    BACKUP_CODES_GENERATED = "backup_codes_generated", _("Backup codes generated")
    BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
    TOKENS_ISSUED = "tokens_issued", _("Tokens issued")
    CLONE_SUSPECTED = "clone_suspected", _("Cloned authenticator suspected")


class AuthEvent(models.Model):
    """One authentication event. Rows are only ever inserted (the admin is read-only).

    ``user`` is whom the event concerns, ``actor`` who caused it (the same user, an admin, or
    nobody for a command). ``username`` is kept as text so a failed login for an unknown name and
    the history of a deleted user stay readable. ``detail`` holds small non-secret facts
    (failure count, old and new names, backup codes left); writers never put a code in it.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=32, blank=True)
    device = models.CharField(_("device id"), max_length=200, blank=True)
    device_name = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    client_id = models.CharField(max_length=100, blank=True)
    acr = models.CharField(max_length=64, blank=True)
    amr = models.JSONField(default=list, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("authentication event")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["kind", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"
