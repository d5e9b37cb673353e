"""Core models: the per-client policy, the per-user lock state, and the authentication context
that travels with authorization codes and tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from .context import ACR_LEVELS


class MFAMode(models.TextChoices):
    DEFAULT = "", _("Site default")
    OFF = "off", _("Off: the password is enough")
    WHEN_ENROLLED = "when_enrolled", _("Required when the user has a second factor")
    ALWAYS = "always", _("Always required (users without one enroll first)")


class SubjectType(models.TextChoices):
    PUBLIC = "public", _("Public")
    PAIRWISE = "pairwise", _("Pairwise")


class ClientPolicy(models.Model):
    """How much authentication one OAuth client demands. One-to-one with DOT's Application."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="mfa_policy"
    )
    mfa_mode = models.CharField(max_length=16, choices=MFAMode.choices, blank=True, default=MFAMode.DEFAULT)
    min_acr = models.CharField(
        _("minimum acr"),
        max_length=64,
        blank=True,
        choices=[("", _("No minimum"))] + [(v, v) for v in ACR_LEVELS],
        help_text=_("Every authorization for this client reaches at least this level."),
    )
    max_mfa_age = models.PositiveIntegerField(
        _("maximum second-factor age (seconds)"),
        null=True,
        blank=True,
        help_text=_("Ask for the second factor again when the last one is older than this."),
    )
    allowed_methods = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Second-factor methods this client accepts, e.g. ["totp", "webauthn"]; empty: all.'),
    )
    # OIDC Core §8: which subject identifier (sub) this client knows its users by (mfa_oauth.oauth.subject).
    subject_type = models.CharField(
        _("subject type"),
        max_length=16,
        choices=SubjectType.choices,
        default=SubjectType.PUBLIC,
        help_text=_(
            "Public: every client sees the same sub for a user. Pairwise: clients of different "
            "sectors see different, unlinkable subs (OpenID Connect Core §8.1)."
        ),
    )
    sector_identifier_uri = models.URLField(
        _("sector identifier URI"),
        max_length=2000,
        blank=True,
        help_text=_(
            "Pairwise only: an https URL of a JSON array listing every redirect URI of this client; its "
            "host is the sector that shares one sub per user. Needed when the redirect URIs have "
            "several hosts. Fetched and checked when saved."
        ),
    )

    class Meta:
        verbose_name = _("client MFA policy")
        verbose_name_plural = _("client MFA policies")

    def __str__(self) -> str:
        return f"MFA policy of {self.application}"

    def _sector_inputs_changed(self, application) -> bool:
        """Whether the sector identifier URI or the client's redirect URIs differ from what was saved
        (and checked) before: an unchanged pair is not fetched again, so a sector host that is down
        does not stop an operator from editing the client's other settings."""
        if self.pk is None or application is None:
            return True
        saved = (
            type(self)
            .objects.filter(pk=self.pk)
            .values_list("sector_identifier_uri", "application__redirect_uris")
            .first()
        )
        return saved != (self.sector_identifier_uri, application.redirect_uris)

    def clean(self) -> None:
        # OIDC Core §8.1 / OIDC Registration §5: the sector of a pairwise client is the host of its
        # sector identifier URI, whose document must list the client's redirect URIs; without one,
        # the client must have a single redirect host.
        from .oauth.subject import check_sector_identifier_uri, redirect_hosts

        super().clean()
        try:
            application = self.application
        except ObjectDoesNotExist:
            application = None
        redirect_uris = (getattr(application, "redirect_uris", "") or "").split()
        if self.sector_identifier_uri and self._sector_inputs_changed(application):
            try:
                check_sector_identifier_uri(self.sector_identifier_uri, redirect_uris)
            except ValidationError as error:
                raise ValidationError({"sector_identifier_uri": error}) from None
        elif self.subject_type == SubjectType.PAIRWISE and application is not None:
            hosts = redirect_hosts(application)
            if len(hosts) > 1:
                raise ValidationError(
                    {
                        "sector_identifier_uri": _(
                            "The redirect URIs have several hosts (%(hosts)s): a pairwise client needs a "
                            "sector identifier URI."
                        )
                        % {"hosts": ", ".join(sorted(hosts))}
                    }
                )


class UserMFAState(models.Model):
    """Consecutive second-factor failures of one user, across all devices and sessions.

    django-otp's per-device back-off has no hard cap; this row adds it (NIST SP 800-63B-4 §3.2.2; RFC 4226 §7.3), as
    escalating timed locks (mfa_oauth.lockout; docs/security.md, "Second-factor lockout"). The row
    is only changed under its row lock or with single UPDATE statements, so parallel requests
    cannot lose increments.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_state")
    # Failures in the current window: the count that reaches MAX_FAILED_ATTEMPTS and starts a lock.
    failure_count = models.PositiveIntegerField(default=0)
    # When the current (or last) lock started; None: no lock since the last success or unlock.
    locked_at = models.DateTimeField(null=True, blank=True)
    # When that lock ends; None with locked_at set: it has no end (the NIST ceiling was reached).
    locked_until = models.DateTimeField(null=True, blank=True)
    # Locks since the last success or unlock: which of LOCKOUT_WINDOWS the next lock lasts.
    lock_level = models.PositiveIntegerField(default=0)
    # Consecutive failures since the last success or unlock, over all windows (at most 100).
    total_failures = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("second-factor lock state")

    def __str__(self) -> str:
        return f"{self.user}: {self.failure_count} failures{' (locked)' if self.locked_at else ''}"


class AuthenticationRecord(models.Model):
    """An authentication as it happened: frozen when an authorization code is issued.

    Codes and tokens point to it, so a refreshed token keeps the ``acr``/``amr``/``auth_time``
    of the authentication that started its family and never upgrades them.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    auth_time = models.DateTimeField()
    acr = models.CharField(max_length=64)
    amr = models.JSONField(default=list)
    created = models.DateTimeField(auto_now_add=True)
    # SHA-256 of the authorization code this record was frozen for. Codes are unique and single use,
    # so the token endpoint finds the record with one indexed lookup; no link row to insert at the
    # authorization endpoint and none to delete with the grant (never the code itself: a digest).
    code_digest = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # RFC 9449: the thumbprint (RFC 7638) of the DPoP key the code and every token of its family are
    # bound to (the authorization request's dpop_jkt, or the key of the first token request); empty:
    # bearer tokens (mfa_oauth.dpop).
    dpop_jkt = models.CharField(max_length=64, blank=True, default="", editable=False)
    # RFC 9396: the authorization details granted with the code, the same for every token of the
    # family (a refresh cannot widen them; mfa_oauth.rar).
    authorization_details = models.JSONField(default=list, blank=True, editable=False)
    # The OIDC claims parameter of the authorization request, validated and normalised
    # (mfa_oauth.oauth.claims): every token of the code's family answers the claims the user approved
    # (DOT keeps it only on the grant, which the code's redemption deletes).
    claims_request = models.JSONField(default=dict, blank=True, editable=False)

    def __str__(self) -> str:
        return f"{self.user} {self.acr} {self.amr} at {self.auth_time:%Y-%m-%d %H:%M:%S}"

    @staticmethod
    def digest(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()

    def claims(self) -> dict:
        return {"acr": self.acr, "amr": list(self.amr), "auth_time": int(self.auth_time.timestamp())}


class TokenLink(models.Model):
    """The authentication behind tokens: one row for the access and refresh token issued together.

    Userinfo, introspection and resource servers find it by the access token, the refresh grant by
    the refresh token. Either side is set to NULL when DOT deletes that token (an expired access
    token cleared, an access token revoked at rotation), so the other keeps its authentication; a
    row with neither left links nothing.

    A token issued without an authentication (``client_credentials``) has no record; it gets a row
    only when it is bound to a DPoP key (``dpop_jkt``, RFC 9449 §5), so a bearer client token costs
    no write, and a bound one the one INSERT of its row.
    """

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mfa_authentication",
    )
    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mfa_authentication",
    )
    record = models.ForeignKey(AuthenticationRecord, on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    # RFC 9449 §5, FAPI 2.0 §5.3.2.1: the thumbprint of the DPoP key a token without a record is bound
    # to. A family with a record is bound on the record (AuthenticationRecord.dpop_jkt), for life.
    dpop_jkt = models.CharField(max_length=64, blank=True, default="", editable=False)

    def bound_jkt(self) -> str:
        """The thumbprint of the DPoP key these tokens are bound to; '' for bearer tokens."""
        if self.record is not None:
            return self.record.dpop_jkt
        return self.dpop_jkt


class UpgradeMark(models.Model):
    """The credentials that predate mfa_oauth (docs/adoption.md, "Upgrading from plain DOT").

    One row, written by migration 0008 when the app is installed on a site that already issued
    DOT codes and tokens: the highest Grant and RefreshToken primary keys at that moment. A row at
    or below its mark and without an authentication record was issued by plain DOT before the
    install; one above it was issued afterwards and must have a record (fail closed). Primary keys
    and not timestamps: they only grow, whatever the clocks of several nodes say."""

    grant_max_pk = models.BigIntegerField(default=0)
    refresh_token_max_pk = models.BigIntegerField(default=0)
    installed_at = models.DateTimeField()

    @classmethod
    def current(cls) -> UpgradeMark | None:
        return cls.objects.filter(pk=1).first()


class LegacyRefreshToken(models.Model):
    """A refresh token rotated from a pre-install one: it carries the same unknown context forward
    (never an upgraded one), so the client keeps refreshing after rotation (RFC 9700 §4.14.2)."""

    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL, on_delete=models.CASCADE, related_name="mfa_legacy"
    )


# Models of the core app that live beside their factor's code.
# ... and beside the introspection endpoint that consults it.
# FAPI 2.0: per-client authentication method and keys, pushed authorization requests (docs/fapi.md).
from .fapi.models import ClientSecurityProfile, PushedAuthorization  # noqa: E402,F401
from .oauth.resource_servers import ResourceServer  # noqa: E402,F401
from .totp.models import OATHTOTPDevice  # noqa: E402,F401
