"""Test-only attestation PKI and FIDO MDS3 BLOBs, built and signed here with ``cryptography`` and
``jwcrypto`` (never downloaded): a vendor root, attestation certificates with the subject and
extensions WebAuthn L2 §8.2.1 asks for, and BLOBs signed by a test "MDS" chain."""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws

FIDO_AAGUID_OID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
AAGUID = uuid.UUID("0b5e2b2a-7d5c-4bd4-9c1e-5a4f0e1d2c3b")


def _name(common_name: str, *, ou: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Vendor"),
    ]
    if ou is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
    )


@dataclass
class CertificateAuthority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def root(cls, common_name: str = "Test Attestation Root") -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(common_name)
        certificate = (
            _builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.pem)
        return path

    def intermediate(self, common_name: str = "Test Intermediate") -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            _builder(_name(common_name), self.certificate.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return CertificateAuthority(key, certificate)

    def attestation_certificate(
        self,
        aaguid: uuid.UUID = AAGUID,
        *,
        ou: str = "Authenticator Attestation",
        aaguid_extension: bytes | None = None,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """A packed attestation certificate (WebAuthn L2 §8.2.1) for ``aaguid``, issued by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        value = aaguid.bytes if aaguid_extension is None else aaguid_extension
        certificate = (
            _builder(_name("Test Authenticator", ou=ou), self.certificate.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.UnrecognizedExtension(FIDO_AAGUID_OID, b"\x04\x10" + value), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return key, certificate

    def server_certificate(self, dns_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """An end-entity certificate for ``dns_name`` (the MDS BLOB signer)."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            _builder(_name(dns_name), self.certificate.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return key, certificate


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


# --- FIDO MDS3 BLOBs ---------------------------------------------------------------------------------


def mds_entry(
    aaguid: uuid.UUID = AAGUID,
    roots: tuple[CertificateAuthority, ...] = (),
    statuses: tuple[str, ...] = ("FIDO_CERTIFIED_L1",),
    key_protection: tuple[str, ...] = ("hardware", "secure_element"),
) -> dict:
    """One BLOB entry in the MDS3 shape (FIDO MDS 3.0 §3.1.1, metadata statement §4)."""
    return {
        "aaguid": str(aaguid),
        "metadataStatement": {
            "aaguid": str(aaguid),
            "description": "Test Authenticator",
            "attestationTypes": ["basic_full"],
            "keyProtection": list(key_protection),
            "attestationRootCertificates": [base64.b64encode(r.der).decode() for r in roots],
        },
        "statusReports": [{"status": s, "effectiveDate": "2024-01-01"} for s in statuses],
        "timeOfLastStatusChange": "2024-01-01",
    }


def mds_blob(
    signer_key: ec.EllipticCurvePrivateKey,
    chain: list[x509.Certificate],
    entries: list[dict],
    *,
    next_update: str = "2099-01-01",
    number: int = 1,
) -> str:
    """A compact JWS (ES256) over the BLOB payload, with ``chain`` (signer first) in its x5c header."""
    payload = {"legalHeader": "test", "no": number, "nextUpdate": next_update, "entries": entries}
    token = jws.JWS(json.dumps(payload).encode())
    header = {"alg": "ES256", "typ": "JWT", "x5c": [base64.b64encode(der(c)).decode() for c in chain]}
    token.add_signature(jwk.JWK.from_pyca(signer_key), alg="ES256", protected=json.dumps(header))
    return token.serialize(compact=True)
