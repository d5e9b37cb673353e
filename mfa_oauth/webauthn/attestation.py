"""Registration attestation as evidence: what was verified, stored on the credential (docs/security.md).

WebAuthn L2 §6.5: only an attestation statement whose certificate chain leads to a trust anchor the
relying party chose says what kind of authenticator made the key; "none" and self attestation
(L2 §6.5.3, packed without x5c) say nothing, and the authenticator's flags (BE, UV) are its own
claim. So ``hwk``/``phrh`` are earned only by a chain verified against an anchor the operator
installed (:mod:`.trust`); everything else is a software key (NIST SP 800-63B-4: AAL3 needs a
hardware-based authenticator, which the verifier learns from attestation, not from the authenticator's
unverified word).

py_webauthn 3.0.1's ``verify_registration_response(pem_root_certs_bytes_by_fmt=...)`` verifies the
statement and the chain for the formats in :data:`CHAIN_VERIFIED_FORMATS`. Two of its gaps are
closed here: it passes any chain when it is given no root (so "verified" alone proves nothing
about the chain), and it adds its own bundled roots for apple and android-key (so the anchor is
identified here, among the operator's, with the library's ``validate_certificate_chain``). For
packed it does not check the attestation certificate requirements of L2 §8.2.1, checked here.
android-safetynet (deprecated by Google; it attests the device, not the key) and "none" are
accepted as registrations but never anchored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from cryptography import x509
from cryptography.x509.oid import NameOID
from webauthn import verify_registration_response
from webauthn.helpers import aaguid_to_string, parse_attestation_object, validate_certificate_chain
from webauthn.helpers.structs import AttestationFormat, RegistrationCredential
from webauthn.registration.verify_registration_response import VerifiedRegistration

from .certificates import Anchor
from .trust import Trust

logger = logging.getLogger("mfa_oauth.webauthn")

CHAIN_VERIFIED_FORMATS = frozenset(
    f.value
    for f in (
        AttestationFormat.PACKED,
        AttestationFormat.TPM,
        AttestationFormat.ANDROID_KEY,
        AttestationFormat.APPLE,
        AttestationFormat.FIDO_U2F,
    )
)
# id-fido-gen-ce-aaguid (WebAuthn L2 §8.2.1): the AAGUID an attestation certificate vouches for.
FIDO_AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


@dataclass(frozen=True)
class Evidence:
    """What a registration's attestation proved, as stored on the credential."""

    fmt: str
    aaguid: str
    # SHA-256 of the operator's anchor the x5c chain was verified against; empty: none.
    anchor_sha256: str = ""

    @property
    def anchored(self) -> bool:
        return bool(self.anchor_sha256)


def verify_registration(
    credential: RegistrationCredential, trust: Trust, **checks: Any
) -> tuple[VerifiedRegistration, Evidence]:
    """py_webauthn's verification of ``credential`` (``checks``: its keyword arguments), with the
    anchor it chained to. A chain that leads to no installed anchor is not a refusal: the key is
    registered as a software key, like one with "none" attestation."""
    statement = parse_attestation_object(bytes(credential.response.attestation_object))
    fmt = statement.fmt if isinstance(statement.fmt, str) else ""
    attested = statement.auth_data.attested_credential_data
    aaguid_bytes = bytes(attested.aaguid) if attested is not None and attested.aaguid else b""
    aaguid = aaguid_to_string(aaguid_bytes) if len(aaguid_bytes) == 16 else ""
    anchors = trust.anchors_for(aaguid) if fmt in CHAIN_VERIFIED_FORMATS else ()
    if anchors:
        try:
            verified = verify_registration_response(
                credential=credential,
                pem_root_certs_bytes_by_fmt={fmt: [a.pem for a in anchors]},  # a fresh list: py_webauthn appends
                **checks,
            )
        except Exception as error:  # refused with the anchors; the check without them decides below
            logger.info(
                "webauthn attestation (%s, %s) not verified against an installed anchor: %s", fmt, aaguid, error
            )
        else:
            x5c = list(statement.att_stmt.x5c or []) if statement.att_stmt is not None else []
            anchor = _anchor_of(x5c, anchors) if _certificate_acceptable(fmt, x5c, aaguid_bytes) else None
            return verified, Evidence(fmt=fmt, aaguid=verified.aaguid, anchor_sha256=anchor.sha256 if anchor else "")
    verified = verify_registration_response(credential=credential, **checks)
    return verified, Evidence(fmt=fmt, aaguid=verified.aaguid)


def _anchor_of(x5c: list[bytes], anchors: tuple[Anchor, ...]) -> Anchor | None:
    """The installed anchor the chain leads to (self attestation has no chain: None)."""
    if not x5c:
        return None
    for anchor in anchors:
        try:
            validate_certificate_chain(x5c=x5c, pem_root_certs_bytes=[anchor.pem])
        except Exception:
            continue
        return anchor
    return None


def _certificate_acceptable(fmt: str, x5c: list[bytes], aaguid: bytes) -> bool:
    """WebAuthn L2 §8.2.1 for packed (the other formats' requirements are checked by py_webauthn)."""
    if fmt != AttestationFormat.PACKED.value or not x5c:
        return True
    try:
        certificate = x509.load_der_x509_certificate(x5c[0])
        subject = certificate.subject

        def attribute(oid: Any) -> str:
            values = subject.get_attributes_for_oid(oid)
            return str(values[0].value) if values else ""

        if certificate.version != x509.Version.v3:
            return _refuse("not an X.509 v3 certificate")
        if not (attribute(NameOID.COUNTRY_NAME) and attribute(NameOID.ORGANIZATION_NAME)):
            return _refuse("subject without C or O")
        if attribute(NameOID.ORGANIZATIONAL_UNIT_NAME) != "Authenticator Attestation":
            return _refuse("subject OU is not 'Authenticator Attestation'")
        if not attribute(NameOID.COMMON_NAME):
            return _refuse("subject without CN")
        extensions = certificate.extensions
        try:
            if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                return _refuse("a CA certificate")
        except x509.ExtensionNotFound:
            pass  # RFC 5280 §4.2.1.9: without the extension it is not a CA
        try:
            extension = extensions.get_extension_for_oid(FIDO_AAGUID_OID)
        except x509.ExtensionNotFound:
            return True
        # The value is an OCTET STRING holding the 16 AAGUID bytes; it MUST NOT be critical.
        value = cast(x509.UnrecognizedExtension, extension.value)  # an OID cryptography has no class for
        if extension.critical or value.value != b"\x04\x10" + aaguid:
            return _refuse("id-fido-gen-ce-aaguid does not match the AAGUID in authenticatorData")
    except ValueError as error:  # cryptography's parse errors
        return _refuse(f"unreadable: {error}")
    return True


def _refuse(reason: str) -> bool:
    logger.info("webauthn packed attestation certificate not acceptable (L2 §8.2.1): %s", reason)
    return False
