"""Trust-anchor certificates read from files the operator installs (docs/security.md).

An :class:`Anchor` is one root certificate as py_webauthn takes it (PEM bytes) with the SHA-256 of
its DER encoding, which a credential stores to name the anchor its attestation chained to.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

# Files of a directory that are read as PEM certificates; anything else (a README) is ignored.
CERTIFICATE_SUFFIXES = (".pem", ".crt")


@dataclass(frozen=True)
class Anchor:
    pem: bytes
    sha256: str  # hex SHA-256 of the DER certificate

    @classmethod
    def from_certificate(cls, certificate: x509.Certificate) -> Anchor:
        der = certificate.public_bytes(Encoding.DER)
        return cls(pem=certificate.public_bytes(Encoding.PEM), sha256=hashlib.sha256(der).hexdigest())

    @classmethod
    def from_der(cls, der: bytes) -> Anchor:
        return cls.from_certificate(x509.load_der_x509_certificate(der))


class CertificateFileError(ValueError):
    """A configured certificate path that is missing, unreadable or holds no certificate."""


def files_of(path: str) -> list[Path]:
    """The certificate files ``path`` names: itself, or the certificate files of a directory."""
    location = Path(path)
    if location.is_dir():
        return sorted(p for p in location.iterdir() if p.is_file() and p.suffix.lower() in CERTIFICATE_SUFFIXES)
    if location.is_file():
        return [location]
    raise CertificateFileError(f"{path!r} does not exist (or is neither a file nor a directory)")


def signature_of(path: str) -> tuple:
    """What changes when the certificates at ``path`` may have: names, sizes and modification times."""
    try:
        return tuple((str(p), *_stat(p)) for p in files_of(path))
    except (CertificateFileError, OSError):
        return ("missing", path)


def read_anchors(path: str) -> tuple[Anchor, ...]:
    """Every PEM certificate at ``path``; raises CertificateFileError when there is none or one is bad."""
    anchors: list[Anchor] = []
    for file in files_of(path):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CertificateFileError(f"{file} cannot be read: {error}") from error
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError as error:
            raise CertificateFileError(f"{file} holds no readable PEM certificate: {error}") from error
        anchors.extend(Anchor.from_certificate(c) for c in certificates)
    if not anchors:
        raise CertificateFileError(f"{path!r} holds no certificate")
    return tuple(anchors)


def _stat(path: Path) -> tuple[int, int, int]:
    info = os.stat(path)
    return info.st_mtime_ns, info.st_size, info.st_ino
