"""What the operator trusts for WebAuthn attestation: installed roots and an MDS3 BLOB (from MFA_OAUTH).

Both come from files on disk, read again when they change (so a refreshed BLOB or a removed root
takes effect without a restart) and never fetched from the network. A configured source that
cannot be read or verified makes :class:`Trust` unusable, and an unusable trust vouches for no
credential: deny by default (docs/security.md). The system checks report the same problems at start.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..conf import settings as mfa_settings
from .certificates import Anchor, CertificateFileError, read_anchors, signature_of
from .mds import MetadataBlob, MetadataError, read_blob

logger = logging.getLogger("mfa_oauth.webauthn")


@dataclass(frozen=True)
class Trust:
    roots: tuple[Anchor, ...] = ()
    blob: MetadataBlob | None = None
    # False when a configured root file or BLOB cannot be used (its problem is logged).
    usable: bool = True

    @property
    def configured(self) -> bool:
        return bool(self.roots or self.blob is not None or not self.usable)

    def anchors_for(self, aaguid: str) -> tuple[Anchor, ...]:
        """The roots an attestation by the authenticator model ``aaguid`` may chain to."""
        if not self.usable:
            return ()
        entry = self.blob.entry(aaguid) if self.blob is not None else None
        return self.roots + (entry.roots if entry is not None else ())

    def vouches_for(self, aaguid: str, anchor_sha256: str) -> bool:
        """Whether an attestation that chained to ``anchor_sha256`` still makes the key hardware:
        the anchor is still installed (or still listed for the model), and the BLOB, when there is
        one, neither reports the model compromised nor says its keys are not hardware-protected."""
        if not anchor_sha256 or anchor_sha256 not in {a.sha256 for a in self.anchors_for(aaguid)}:
            return False
        entry = self.blob.entry(aaguid) if self.blob is not None else None
        return entry is None or (not entry.compromised and entry.hardware_protected)


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, object]] = {}


def current() -> Trust:
    """The trust the settings describe now (files re-read only when they changed)."""
    roots_path = str(mfa_settings.WEBAUTHN_ATTESTATION_ROOTS or "")
    blob_path = str(mfa_settings.WEBAUTHN_MDS_BLOB or "")
    usable = True
    roots: tuple[Anchor, ...] = ()
    blob = None
    if roots_path:
        try:
            roots = _cached("roots", roots_path, signature_of(roots_path), lambda: read_anchors(roots_path))
        except CertificateFileError:
            usable = False
    if blob_path:
        try:
            blob = load_blob()
        except MetadataError:
            usable = False
    return Trust(roots=roots, blob=blob, usable=usable)


def load_blob() -> MetadataBlob:
    """The configured BLOB, verified; MetadataError when it or its root cannot be used."""
    blob_path = str(mfa_settings.WEBAUTHN_MDS_BLOB or "")
    roots_path = str(mfa_settings.WEBAUTHN_MDS_ROOTS or "")
    signer = str(mfa_settings.WEBAUTHN_MDS_SIGNER or "")
    if not roots_path:
        raise MetadataError("WEBAUTHN_MDS_ROOTS is not set: the BLOB's signature cannot be verified")
    signature = (signature_of(blob_path), signature_of(roots_path), signer)

    def load() -> MetadataBlob:
        try:
            roots = read_anchors(roots_path)
        except CertificateFileError as error:
            raise MetadataError(f"WEBAUTHN_MDS_ROOTS: {error}") from error
        try:
            text = Path(blob_path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise MetadataError(f"{blob_path!r} cannot be read: {error}") from error
        return read_blob(text, roots, signer)

    return _cached("blob", blob_path, signature, load)


def _cached(kind: str, path: str, signature: tuple, load):
    """``load()``'s result (or error) for ``path``, until the files' signature changes. A failure is
    logged once per change of the files, not at every sign-in."""
    key = f"{kind}:{path}"
    with _lock:
        hit = _cache.get(key)
    if hit is None or hit[0] != signature:
        try:
            value: object = load()
        except (CertificateFileError, MetadataError) as error:
            logger.error("WebAuthn %s %r unusable, no credential is hardware level: %s", kind, path, error)
            value = error
        with _lock:
            _cache[key] = (signature, value)
        hit = (signature, value)
    if isinstance(hit[1], Exception):
        stored = hit[1]
        raise type(stored)(str(stored))  # a new instance: re-raising one would grow its traceback
    return hit[1]
