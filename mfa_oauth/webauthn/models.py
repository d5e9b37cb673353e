"""WebAuthn credentials as django-otp devices (built on py_webauthn, see ceremonies.py)."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin

from ..context import LEVEL_PHISHING_RESISTANT, LEVEL_PHISHING_RESISTANT_HARDWARE, Factor
from ..methods import Method
from . import trust

# Phishing-resistant (verifier name binding, NIST SP 800-63B-4 §3.2.5.2), not shown to be hardware.
METHOD = Method(
    "webauthn",
    _("Security key or passkey"),
    ("swk", "pop"),
    level=LEVEL_PHISHING_RESISTANT,
    takes_code=False,
    challenge_template="mfa_oauth/webauthn/challenge.html",
)
# A credential whose attestation chained to an installed anchor (attestation.py), not synced (BE=0),
# that verified its user at registration can reach phrh.
METHOD_HARDWARE = Method(
    METHOD.name,
    METHOD.label,
    ("hwk", "pop"),
    level=LEVEL_PHISHING_RESISTANT_HARDWARE,
    takes_code=False,
    challenge_template=METHOD.challenge_template,
)


def credential_id_hash(credential_id: bytes) -> str:
    """A fixed-length, indexable key for credential ids of up to 1023 bytes."""
    return hashlib.sha256(credential_id).hexdigest()


class _MethodDescriptor:
    """``WebAuthnCredential.mfa_method`` is the class's Method; on an instance it is the best level
    that credential can reach, so the policy and the challenge page can tell phr from phrh."""

    def __get__(self, instance, owner):
        if instance is None:
            return METHOD
        return METHOD_HARDWARE if instance.user_verifying and instance.hardware_attested else METHOD


class WebAuthnUserHandle(models.Model):
    """The random, opaque WebAuthn user.id of an account (never its pk, name or email: L2 §14.6.1).

    A passkey returns it as ``userHandle``, which is how a passwordless sign-in finds the account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webauthn_handle")
    handle = models.CharField(max_length=64, unique=True, editable=False)

    def __str__(self) -> str:
        return f"WebAuthn user handle of {self.user}"

    @classmethod
    def for_user(cls, user: Any) -> WebAuthnUserHandle:
        handle, _created = cls.objects.get_or_create(user=user, defaults={"handle": secrets.token_hex(32)})
        return handle

    @property
    def handle_bytes(self) -> bytes:
        return bytes.fromhex(self.handle)


class WebAuthnCredential(TimestampMixin, Device):
    """One registered public-key credential: a security key, a platform authenticator or a passkey."""

    mfa_method = _MethodDescriptor()

    credential_id = models.BinaryField(max_length=1023)
    credential_id_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    aaguid = models.CharField(max_length=36, blank=True)
    transports = models.JSONField(default=list, blank=True)
    # What the registration's attestation proved (attestation.py), the evidence levels are derived
    # from at each sign-in: its format; whether its certificate chain was verified against a trust
    # anchor the operator installed, and which one (SHA-256 of the anchor's DER).
    attestation_format = models.CharField(max_length=32, blank=True)
    attestation_verified = models.BooleanField(default=False)
    attestation_root = models.CharField(max_length=64, blank=True)
    # BE: the credential may be synced to other devices (a passkey in a cloud keychain). Fixed at creation.
    backup_eligible = models.BooleanField(default=False)
    # BS: it is synced now (may change).
    backup_state = models.BooleanField(default=False)
    # UV at registration: the authenticator can verify its user (PIN or biometric).
    user_verifying = models.BooleanField(default=False)
    # What the browser reported through credProps (client data, unsigned: informative only).
    discoverable = models.BooleanField(null=True, blank=True)
    # Set when an assertion with a valid signature carried a sign count that did not increase.
    clone_suspected_at = models.DateTimeField(null=True, blank=True)

    class Meta(Device.Meta):
        verbose_name = _("WebAuthn credential")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.credential_id_sha256 = credential_id_hash(bytes(self.credential_id))
        super().save(*args, **kwargs)

    @property
    def hardware_bound(self) -> bool:
        """Not synced (BE=0): the authenticator's own claim, signed by the key it describes."""
        return not self.backup_eligible

    @property
    def hardware_attested(self) -> bool:
        """Hardware-bound on the operator's evidence: not synced, attested by a chain verified against
        an installed anchor at registration, and that anchor still trusted for the model now (an
        anchor removed or an MDS compromise report since takes the level away; trust.py)."""
        return (
            self.hardware_bound
            and self.attestation_verified
            and trust.current().vouches_for(self.aaguid, self.attestation_root)
        )

    def verify_token(self, token: Any) -> bool:
        # Never verified by a typed code; the assertion endpoints verify it (ceremonies.py).
        return False

    def verified_factor(self) -> Factor:
        """The factor the last assertion of this instance earned (mfa_oauth.methods.factor_for)."""
        flags = getattr(self, "_assertion_flags", None) or {"uv": False, "be": self.backup_eligible}
        return factor_from_assertion(self, user_verified=flags["uv"], backup_eligible=flags["be"])

    def remember_assertion(self, *, user_verified: bool, backup_eligible: bool) -> None:
        self._assertion_flags = {"uv": bool(user_verified), "be": bool(backup_eligible)}


def factor_from_assertion(device: WebAuthnCredential, *, user_verified: bool, backup_eligible: bool) -> Factor:
    """amr/acr of an assertion: ``hwk`` and ``phrh`` only for a credential the stored attestation
    evidence shows to be hardware (``hardware_attested``) that is not synced now either; ``user`` only
    from UV (signed by the key).

    UV does not say which gesture was used (PIN, fingerprint, face), so ``fpt``/``face`` are never
    claimed (NIST SP 800-63B-4 Appendix B). A synced passkey (BE=1) is phr, never phrh (Appendix B: syncable
    keys are not AAL3); so is an unattested
    or self-attested key, whatever its flags say (docs/security.md)."""
    hardware = not backup_eligible and device.hardware_attested
    amr = ["hwk" if hardware else "swk", "pop"]
    if user_verified:
        amr.append("user")
    level = LEVEL_PHISHING_RESISTANT_HARDWARE if user_verified and hardware else LEVEL_PHISHING_RESISTANT
    return Factor(
        method=METHOD.name,
        amr=tuple(amr),
        level=level,
        at=int(time.time()),
        device=device.persistent_id,
        # Possession plus a local PIN/biometric: multi-factor on its own (NIST SP 800-63B-4 App. B).
        multi_factor=bool(user_verified),
    )
