"""A FIDO Metadata Service (MDS3) BLOB, read from a file the operator downloads.

The BLOB is a JWS whose ``x5c`` header carries the signing certificate chain (FIDO MDS 3.0 §3.1.4).
It is trusted only when that chain leads to the operator's root (checked with py_webauthn's own
``validate_certificate_chain``), the signing certificate carries the expected DNS name (the root
also issues certificates to unrelated sites), and the signature verifies (jwcrypto). CRLs are not
fetched: nothing here touches the network; the operator refreshes the file (docs/security.md).

Each entry is keyed by AAGUID and gives the model's attestation roots, its status reports and how
its keys are protected; :mod:`.trust` decides what they are worth.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws
from webauthn.helpers import validate_certificate_chain

from .certificates import Anchor

logger = logging.getLogger("mfa_oauth.webauthn")

# Asymmetric JWS algorithms only: a MAC ("HS256") keyed with a public certificate proves nothing.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")

# AuthenticatorStatus values (FIDO MDS 3.0 §3.1.3) after which a model's keys are not trusted: its
# attestation or user keys may be in an attacker's hands, or its user verification can be bypassed.
COMPROMISED_STATUSES = frozenset(
    {
        "REVOKED",
        "USER_VERIFICATION_BYPASS",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    }
)
# keyProtection values (FIDO Registry of Predefined Values §3.2) that mean the private key is held in
# hardware; "software" (or nothing) is not.
HARDWARE_KEY_PROTECTION = frozenset({"hardware", "tee", "secure_element"})


class MetadataError(ValueError):
    """The BLOB cannot be read, or is not signed by the operator's root."""


@dataclass(frozen=True)
class MetadataEntry:
    aaguid: str
    roots: tuple[Anchor, ...] = ()
    statuses: tuple[str, ...] = ()
    key_protection: tuple[str, ...] = ()

    @property
    def compromised(self) -> bool:
        """Any report of revocation or compromise, however old: deny by default, since a later
        "update available" does not say the authenticator in a user's hand was updated."""
        return any(status in COMPROMISED_STATUSES for status in self.statuses)

    @property
    def hardware_protected(self) -> bool:
        protection = set(self.key_protection)
        return bool(protection & HARDWARE_KEY_PROTECTION) and "software" not in protection


@dataclass(frozen=True)
class MetadataBlob:
    number: int
    next_update: datetime.date | None
    entries: Mapping[str, MetadataEntry] = field(default_factory=dict)

    def entry(self, aaguid: str) -> MetadataEntry | None:
        return self.entries.get(aaguid.lower()) if aaguid else None


def read_blob(text: str, roots: Sequence[Anchor], signer: str = "") -> MetadataBlob:
    """The verified BLOB, or MetadataError. ``roots``: the PEM roots its chain must lead to."""
    if not roots:
        # validate_certificate_chain passes any chain when it is given no root.
        raise MetadataError("no root certificate to verify the BLOB against")
    token = jws.JWS()
    try:
        token.deserialize(text.strip())
        header = token.jose_header
    except Exception as error:  # jwcrypto raises several types for a malformed compact JWS
        raise MetadataError(f"not a JWS: {error}") from error
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise MetadataError(f"signature algorithm {algorithm!r} is not accepted")
    chain = _chain(header.get("x5c"))
    try:
        validate_certificate_chain(x5c=chain, pem_root_certs_bytes=[r.pem for r in roots])
    except Exception as error:
        raise MetadataError("the signing certificate does not chain to the configured root") from error
    leaf = x509.load_der_x509_certificate(chain[0])
    if signer and signer.lower() not in _names(leaf):
        raise MetadataError(f"the signing certificate is not issued to {signer!r}")
    token.allowed_algs = [algorithm]
    try:
        token.verify(jwk.JWK.from_pyca(leaf.public_key()), alg=algorithm)
        payload = json.loads(token.payload)
    except Exception as error:
        raise MetadataError(f"the signature does not verify: {error}") from error
    return _parse_payload(payload)


def _chain(x5c: Any) -> list[bytes]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise MetadataError("the header has no x5c certificate chain")
    try:
        chain = [base64.b64decode(c, validate=True) for c in x5c]
        for der in chain:
            x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as error:
        raise MetadataError(f"the x5c chain cannot be read: {error}") from error
    return chain


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _names(certificate: x509.Certificate) -> set[str]:
    names = {_text(a.value).lower() for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.update(n.lower() for n in san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    return names


def _parse_payload(payload: Any) -> MetadataBlob:
    if not isinstance(payload, dict) or not isinstance(payload.get("entries"), list):
        raise MetadataError("the payload has no entries")
    entries: dict[str, MetadataEntry] = {}
    for raw in payload["entries"]:
        entry = _entry(raw)
        if entry is not None:
            entries[entry.aaguid] = entry
    return MetadataBlob(number=_int(payload.get("no")), next_update=_date(payload.get("nextUpdate")), entries=entries)


def _entry(raw: Any) -> MetadataEntry | None:
    # Entries without an AAGUID describe UAF (aaid) or U2F (key identifiers) authenticators: WebAuthn
    # credentials are looked up by AAGUID only.
    if not isinstance(raw, dict) or not isinstance(raw.get("aaguid"), str):
        return None
    found = raw.get("metadataStatement")
    statement: dict[str, Any] = found if isinstance(found, dict) else {}
    roots = []
    for text in _strings(statement.get("attestationRootCertificates")):
        try:
            roots.append(Anchor.from_der(base64.b64decode(text, validate=True)))
        except (binascii.Error, ValueError):
            logger.warning("MDS entry %s: an attestation root certificate cannot be read", raw["aaguid"])
    listed = raw.get("statusReports")
    reports: list[Any] = listed if isinstance(listed, list) else []
    statuses = tuple(r["status"] for r in reports if isinstance(r, dict) and isinstance(r.get("status"), str))
    return MetadataEntry(
        aaguid=raw["aaguid"].lower(),
        roots=tuple(roots),
        statuses=statuses,
        key_protection=tuple(_strings(statement.get("keyProtection"))),
    )


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
