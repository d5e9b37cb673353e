"""WebAuthn registration and assertion ceremonies on py_webauthn 3 (``webauthn``).

py_webauthn checks type, challenge, origin, rpIdHash, UP/UV flags, algorithm, attestation and
signature. What the relying party owns is done here (WebAuthn L2 §7.1, §7.2): challenges from
:mod:`.challenges`; the credential is looked up by id *and* owner; duplicate ids are refused;
the sign counter is compared and stored under a row lock after the signature is verified, so
only a holder of the real key can trigger the clone alarm; BE must not change. What the attestation
proved is stored on the credential and decides its level (attestation.py, docs/security.md).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    COSEAlgorithmIdentifier,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import lockout
from ..context import Factor
from ..errors import UserFacingError
from ..signals import authenticator_clone_suspected, second_factor_failed
from . import attestation, challenges, config, trust
from .models import WebAuthnCredential, WebAuthnUserHandle, credential_id_hash, factor_from_assertion

logger = logging.getLogger("mfa_oauth.webauthn")

# Largest request body a ceremony accepts. Real responses are a few KiB (an RSA-4096 key with a
# packed attestation chain stays well under 16 KiB).
MAX_BODY_BYTES = 64 * 1024
MAX_NAME_LENGTH = 64
KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class CeremonyError(UserFacingError):
    """A response that cannot be accepted; ``user_message`` is safe to show, nothing was stored."""

    def __init__(self, user_message: str, status: int = 400) -> None:
        super().__init__(user_message)
        self.status = status


def _signed_in_user(request: HttpRequest) -> Any:  # the project's user model
    """The signed-in user of a ceremony view (the views let no anonymous request through)."""
    user = request.user
    if not user.is_authenticated:
        raise CeremonyError(_("Sign in first."), status=401)
    return user


@dataclass(frozen=True)
class Verified:
    device: WebAuthnCredential
    factor: Factor


# --- request bodies --------------------------------------------------------------------------


def read_payload(request: HttpRequest) -> dict:
    """The JSON object a ceremony endpoint was posted, or a CeremonyError (never a 500)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise CeremonyError(_("The request is too large."))
    try:
        body = request.body
    except Exception as error:  # RequestDataTooBig, a client that hung up
        raise CeremonyError(_("The request is too large.")) from error
    if len(body) > MAX_BODY_BYTES:
        raise CeremonyError(_("The request is too large."))
    if not body:
        return {}
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CeremonyError(_("The request is not valid JSON.")) from error
    if not isinstance(payload, dict):
        raise CeremonyError(_("The request must be a JSON object."))
    return payload


def _credential(payload: dict) -> dict:
    credential = payload.get("credential")
    if not isinstance(credential, dict):
        raise CeremonyError(_("The request carries no credential."))
    return credential


# --- registration ----------------------------------------------------------------------------


def registration_options(request: HttpRequest) -> dict:
    user = _signed_in_user(request)
    uv_required = config.user_verification_required()
    challenge = challenges.issue(request, "register", user_verification_required=uv_required)
    existing = WebAuthnCredential.objects.filter(user=user)
    options = generate_registration_options(
        rp_id=config.rp_id(),
        rp_name=config.rp_name(),
        user_id=WebAuthnUserHandle.for_user(user).handle_bytes,
        user_name=user.get_username(),
        user_display_name=(user.get_full_name() if hasattr(user, "get_full_name") else "") or user.get_username(),
        challenge=challenge,
        timeout=config.challenge_timeout() * 1000,
        # Attestation is asked for only when the operator installed anchors to verify it against: without
        # them it would prove nothing (WebAuthn L2 §6.5) and only show the authenticator's model.
        # "enterprise" (uniquely identifying) is never asked for.
        attestation=AttestationConveyancePreference.DIRECT
        if trust.current().configured
        else AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            # A discoverable credential where the authenticator can hold one: it enables passkey sign-in.
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED
            if uv_required
            else UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(c) for c in existing],
        supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in config.algorithms()],
    )
    data = json.loads(options_to_json(options))
    data["extensions"] = {"credProps": True}
    return data


def finish_registration(request: HttpRequest, payload: dict) -> WebAuthnCredential:
    # Any attempt uses the challenge up, even one refused for its shape.
    state = challenges.consume(request, "register")
    raw = _credential(payload)
    if state is None or state.user_id != str(request.user.pk):
        raise CeremonyError(_("This registration expired or was already used. Start again."))
    name = payload.get("name")
    if name is not None and not isinstance(name, str):
        raise CeremonyError(_("The name must be text."))
    name = (name or "").strip()[:MAX_NAME_LENGTH]
    try:
        parsed = parse_registration_credential_json(raw)
        verified, evidence = attestation.verify_registration(
            parsed,
            trust.current(),
            expected_challenge=state.challenge,
            expected_rp_id=config.rp_id(),
            expected_origin=config.expected_origins(request),
            require_user_verification=state.user_verification_required,
            supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in config.algorithms()],
        )
    except Exception as error:
        # py_webauthn and the parsers under it (cbor2, cryptography, asn1) raise many unrelated types
        # for hostile input; every one of them means "not a valid registration".
        logger.info("webauthn registration refused for user %s: %s", request.user.pk, error)
        raise CeremonyError(
            _("Your security key's answer could not be verified: %(reason)s") % {"reason": _reason(error)}
        ) from error

    backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    transports = [t.value for t in (parsed.response.transports or []) if t.value in KNOWN_TRANSPORTS]
    device = WebAuthnCredential(
        user=_signed_in_user(request),
        name=name or (_("Passkey") if backup_eligible else _("Security key")),
        confirmed=True,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=evidence.aaguid,
        transports=transports,
        attestation_format=evidence.fmt,
        attestation_verified=evidence.anchored,
        attestation_root=evidence.anchor_sha256,
        backup_eligible=backup_eligible,
        backup_state=bool(verified.credential_backed_up),
        user_verifying=bool(verified.user_verified),
        discoverable=_cred_props_rk(raw),
    )
    # The unique index settles a race between two registrations of one id (WebAuthn L2 §7.1 step 22).
    if WebAuthnCredential.objects.filter(credential_id_sha256=credential_id_hash(verified.credential_id)).exists():
        raise CeremonyError(_("This security key is already registered."))
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError as error:
        raise CeremonyError(_("This security key is already registered.")) from error
    device.remember_assertion(user_verified=verified.user_verified, backup_eligible=backup_eligible)
    return device


# --- assertions ------------------------------------------------------------------------------


def authentication_options(request: HttpRequest, level: int = 0, device_id: str = "") -> dict:
    """Options for a second-factor assertion by the logged-in user, listing their credentials (or
    only ``device_id``, the one whose button was pressed) that can reach ``level``."""
    lock = _usable_despite_lock(request.user)
    # While codes are locked only a user-verified assertion is accepted: demand it up front.
    uv_required = config.user_verification_required(level) or lock.locked
    uv = UserVerificationRequirement.REQUIRED if uv_required else UserVerificationRequirement.PREFERRED
    devices = [
        d
        for d in WebAuthnCredential.objects.devices_for_user(request.user, confirmed=True)
        if d.mfa_method.level >= level and (not device_id or d.persistent_id == device_id)
    ]
    if not devices:
        raise CeremonyError(_("You have no security key or passkey that can be used here."))
    challenge = challenges.issue(request, "authenticate", user_verification_required=uv_required)
    options = generate_authentication_options(
        rp_id=config.rp_id(),
        challenge=challenge,
        timeout=config.challenge_timeout() * 1000,
        allow_credentials=[_descriptor(d) for d in devices],
        user_verification=uv,
    )
    return json.loads(options_to_json(options))


def finish_authentication(request: HttpRequest, payload: dict) -> Verified:
    """Verify a second-factor assertion by the logged-in user."""
    user = _signed_in_user(request)
    state = challenges.consume(request, "authenticate")
    raw = _credential(payload)
    if state is None or state.user_id != str(user.pk):
        raise CeremonyError(_("This sign-in request expired or was already used. Try again."))
    lock = _usable_despite_lock(user)
    parsed = _parse_assertion(raw)
    queryset = WebAuthnCredential.objects.filter(user=user, confirmed=True)
    if not queryset.filter(credential_id_sha256=credential_id_hash(parsed.raw_id)).exists():
        raise CeremonyError(_("This security key is not registered to your account."))
    return _verify_assertion(request, state, parsed, queryset, user, lock)


def passkey_options(request: HttpRequest) -> dict:
    """Options for a passwordless sign-in: no credential list (nothing to enumerate), UV required."""
    challenge = challenges.issue(request, "passkey", user_verification_required=True)
    options = generate_authentication_options(
        rp_id=config.rp_id(),
        challenge=challenge,
        timeout=config.challenge_timeout() * 1000,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(options_to_json(options))


def finish_passkey(request: HttpRequest, payload: dict) -> Verified:
    """Verify a passkey sign-in: a discoverable credential with user verification, no password."""
    state = challenges.consume(request, "passkey")
    raw = _credential(payload)
    if state is None:
        raise CeremonyError(_("This sign-in request expired or was already used. Try again."))
    parsed = _parse_assertion(raw)
    generic = _("This passkey is not registered here. Sign in with your password.")
    device = (
        WebAuthnCredential.objects.select_related("user")
        .filter(credential_id_sha256=credential_id_hash(parsed.raw_id), confirmed=True)
        .first()
    )
    if device is None:
        raise CeremonyError(generic)
    user = device.user
    # L2 §7.2 step 6: with no user identified beforehand, userHandle must name the credential's owner.
    handle = WebAuthnUserHandle.objects.filter(user=user).first()
    if not parsed.response.user_handle or handle is None or bytes(parsed.response.user_handle) != handle.handle_bytes:
        raise CeremonyError(generic)
    if not user.is_active:
        raise CeremonyError(generic)
    # A passkey sign-in always demands user verification (passkey_options), so it stays usable
    # while codes are locked unless the site says otherwise.
    lock = _usable_despite_lock(user)
    queryset = WebAuthnCredential.objects.filter(user=user, confirmed=True)
    return _verify_assertion(request, state, parsed, queryset, user, lock)


def _parse_assertion(raw: dict) -> AuthenticationCredential:
    try:
        parsed = parse_authentication_credential_json(raw)
        if not parsed.raw_id or len(parsed.raw_id) > 1023:
            raise ValueError("credential id length")
        return parsed
    except Exception as error:  # see finish_registration: any parser failure is a malformed response
        raise CeremonyError(
            _("Your security key's answer could not be read: %(reason)s") % {"reason": _reason(error)}
        ) from error


def _usable_despite_lock(user: Any) -> lockout.LockState:
    """The user's lock state; a CeremonyError when codes are locked and the site does not let a
    user-verified WebAuthn assertion through meanwhile (PASSKEY_USABLE_WHILE_LOCKED)."""
    lock = lockout.state(user)
    if lock.locked and not lockout.passkey_usable():
        raise CeremonyError(lockout.message(lock, passkey=False), status=403)
    return lock


def _verify_assertion(
    request: HttpRequest,
    state: Any,
    parsed: AuthenticationCredential,
    queryset: Any,
    user: Any,
    lock: lockout.LockState,
) -> Verified:
    clone: tuple[int, int] | None = None
    failure: Exception | None = None
    unverified_while_locked = False
    with transaction.atomic():
        # The row lock serialises two assertions of one credential: the counter only moves forward.
        device = queryset.select_for_update().get(credential_id_sha256=credential_id_hash(parsed.raw_id))
        try:
            verified: VerifiedAuthentication | None = verify_authentication_response(
                credential=parsed,
                expected_challenge=state.challenge,
                expected_rp_id=config.rp_id(),
                expected_origin=config.expected_origins(request),
                credential_public_key=bytes(device.public_key),
                # 0 disables py_webauthn's counter check, which runs *before* the signature check;
                # ours below runs after it, so a forged response cannot raise a clone alarm.
                credential_current_sign_count=0,
                require_user_verification=state.user_verification_required,
            )
        except Exception as error:  # see finish_registration
            logger.info("webauthn assertion refused for user %s: %s", user.pk, error)
            verified = None
            failure = error
        if verified is not None:
            be = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
            new, stored = verified.new_sign_count, device.sign_count
            if lock.locked and not verified.user_verified:
                # Codes are locked: only possession *and* user verification, which no guesser can
                # supply, is accepted meanwhile (docs/security.md, "Second-factor lockout").
                verified, unverified_while_locked = None, True
            elif (new > 0 or stored > 0) and new <= stored:
                clone = (stored, new)
                device.clone_suspected_at = timezone.now()
                device.save(update_fields=["clone_suspected_at"])
            elif be != device.backup_eligible:
                verified, failure = None, ValueError("the backup eligibility flag changed")
            else:
                device.sign_count = new
                device.backup_state = bool(verified.credential_backed_up)
                device.set_last_used_timestamp(commit=False)
                device.save(update_fields=["sign_count", "backup_state", "last_used_at"])
    if clone is not None:
        logger.warning(
            "webauthn credential %s of user %s: sign count %s after %s, possible cloned authenticator",
            device.pk,
            user.pk,
            clone[1],
            clone[0],
        )
        authenticator_clone_suspected.send(
            sender=WebAuthnCredential,
            request=request,
            user=user,
            device=device,
            method="webauthn",
            stored_count=clone[0],
            received_count=clone[1],
        )
        raise CeremonyError(
            _(
                "This security key's counter went backwards, which can mean it was copied. It was refused "
                "and the event recorded; use another factor or contact support."
            )
        )
    if unverified_while_locked:
        raise CeremonyError(
            _(
                "Your codes are locked until %(until)s. Meanwhile only a security key or passkey verified with "
                "its PIN or biometric is accepted: try again and unlock it when your device asks."
            )
            % {"until": lockout.format_time(lock.until) if lock.until else _("an administrator unlocks them")},
            status=403,
        )
    if verified is None:
        second_factor_failed.send(
            sender=WebAuthnCredential,
            request=request,
            user=user,
            device=device,
            method="webauthn",
            failure_count=lockout.failure_count(user),
        )
        raise CeremonyError(
            _("Your security key's answer could not be verified: %(reason)s") % {"reason": _reason(failure)}
        )
    be = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    if not lock.clean:
        # A success ends the count, the window and the escalation (NIST SP 800-63B-4
        # §3.2.2), whichever factor it was made with.
        lockout.reset(user)
    device.remember_assertion(user_verified=verified.user_verified, backup_eligible=be)
    return Verified(device, factor_from_assertion(device, user_verified=verified.user_verified, backup_eligible=be))


# --- helpers ---------------------------------------------------------------------------------


def _descriptor(device: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in device.transports or [] if t in KNOWN_TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=bytes(device.credential_id), transports=transports or None)


def _cred_props_rk(raw: dict) -> bool | None:
    results = raw.get("clientExtensionResults")
    props = results.get("credProps") if isinstance(results, dict) else None
    rk = props.get("rk") if isinstance(props, dict) else None
    return rk if isinstance(rk, bool) else None


def _reason(error: Exception | None) -> str:
    """A short, non-secret reason (py_webauthn's messages name the failed check)."""
    if error is None:
        return str(_("the response was refused"))
    text = str(error).strip() or type(error).__name__
    return text[:200]
