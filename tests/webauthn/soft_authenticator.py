"""A small software WebAuthn authenticator for fast tests (RECIPES §3.2), in the test tree only.

It makes ES256 (or, to test refusal, ES512) credentials with "none" attestation, packed self
attestation, or packed attestation by a certificate chain the test provides (tests/webauthn/pki.py),
and answers with the JSON shapes browsers produce (``PublicKeyCredential.toJSON()``), which
py_webauthn parses.
Every flag and field an attacker could tamper with is a keyword argument, so negative tests can
say exactly what they change.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
CURVES = {-7: (ec.SECP256R1(), 1, 32, hashes.SHA256()), -36: (ec.SECP521R1(), 3, 66, hashes.SHA512())}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    alg: int
    rp_id: str
    user_handle: bytes
    counter: int = 0
    backup_eligible: bool = False


class SoftAuthenticator:
    def __init__(
        self,
        *,
        user_verification: bool = True,
        backup_eligible: bool = False,
        aaguid: bytes = b"\0" * 16,
        attestation: str = "none",
        attestation_key: ec.EllipticCurvePrivateKey | None = None,
        attestation_chain: tuple[bytes, ...] = (),
    ):
        """``attestation``: "none"; "self" (packed, signed by the credential key, no x5c); or "packed"
        (signed by ``attestation_key``, whose certificate comes first in ``attestation_chain``, DER)."""
        assert attestation in ("none", "self", "packed")
        assert attestation != "packed" or (attestation_key is not None and attestation_chain)
        self.user_verification = user_verification
        self.backup_eligible = backup_eligible
        self.aaguid = aaguid
        self.attestation = attestation
        self.attestation_key = attestation_key
        self.attestation_chain = attestation_chain
        self.credentials: dict[bytes, SoftCredential] = {}

    # --- navigator.credentials.create() ------------------------------------------------------

    def create(
        self,
        options: dict | str,
        origin: str,
        *,
        alg: int = -7,
        rp_id: str | None = None,
        uv: bool | None = None,
        credential_id: bytes | None = None,
        challenge: str | None = None,
    ) -> dict:
        opts = json.loads(options) if isinstance(options, str) else options
        rp_id = rp_id or opts["rp"]["id"]
        curve, crv, size, _hash = CURVES[alg]
        key = ec.generate_private_key(curve)
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps(
            {1: 2, 3: alg, -1: crv, -2: numbers.x.to_bytes(size, "big"), -3: numbers.y.to_bytes(size, "big")}
        )
        cid = credential_id or os.urandom(32)
        cred = SoftCredential(cid, key, alg, rp_id, unb64url(opts["user"]["id"]), backup_eligible=self.backup_eligible)
        flags = UP | AT | self._flag_bits(uv)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", cred.counter)
            + self.aaguid
            + struct.pack(">H", len(cid))
            + cid
            + cose
        )
        client_data = self._client_data("webauthn.create", challenge or opts["challenge"], origin)
        attestation = cbor2.dumps(self._attestation(auth_data, client_data, key, alg))
        self.credentials[cid] = cred
        return {
            "id": b64url(cid),
            "rawId": b64url(cid),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    # --- navigator.credentials.get() ---------------------------------------------------------

    def get(
        self,
        options: dict | str,
        origin: str,
        *,
        credential_id: bytes | None = None,
        rp_id: str | None = None,
        uv: bool | None = None,
        counter: int | None = None,
        challenge: str | None = None,
        user_handle: bytes | None = None,
        backup_eligible: bool | None = None,
    ) -> dict:
        opts = json.loads(options) if isinstance(options, str) else options
        cred = self._pick(opts, credential_id)
        cred.counter = cred.counter + 1 if counter is None else counter
        flags = UP | self._flag_bits(uv, cred.backup_eligible if backup_eligible is None else backup_eligible)
        auth_data = (
            hashlib.sha256((rp_id or cred.rp_id).encode()).digest() + bytes([flags]) + struct.pack(">I", cred.counter)
        )
        client_data = self._client_data("webauthn.get", challenge or opts["challenge"], origin)
        _curve, _crv, _size, digest = CURVES[cred.alg]
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(digest))
        return {
            "id": b64url(cred.credential_id),
            "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(cred.user_handle if user_handle is None else user_handle),
            },
            "clientExtensionResults": {},
        }

    # --- helpers -----------------------------------------------------------------------------

    def _attestation(self, auth_data: bytes, client_data: bytes, key: ec.EllipticCurvePrivateKey, alg: int) -> dict:
        """The attestation object (WebAuthn L2 §6.5; packed: §8.2)."""
        if self.attestation == "none":
            return {"fmt": "none", "attStmt": {}, "authData": auth_data}
        signed = auth_data + hashlib.sha256(client_data).digest()
        if self.attestation == "self":
            signature = key.sign(signed, ec.ECDSA(CURVES[alg][3]))
            return {"fmt": "packed", "attStmt": {"alg": alg, "sig": signature}, "authData": auth_data}
        signature = self.attestation_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        statement = {"alg": -7, "sig": signature, "x5c": list(self.attestation_chain)}
        return {"fmt": "packed", "attStmt": statement, "authData": auth_data}

    def _flag_bits(self, uv: bool | None, backup_eligible: bool | None = None) -> int:
        bits = UV if (self.user_verification if uv is None else uv) else 0
        if self.backup_eligible if backup_eligible is None else backup_eligible:
            bits |= BE | BS
        return bits

    def _pick(self, opts: dict, credential_id: bytes | None) -> SoftCredential:
        if credential_id is not None:
            return self.credentials[credential_id]
        allowed = [unb64url(c["id"]) for c in opts.get("allowCredentials") or []]
        for cid, cred in self.credentials.items():
            if not allowed or cid in allowed:
                return cred
        raise LookupError("no credential of this authenticator is allowed")

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()
