"""The keys id_tokens are signed with, and which one signs a client's id_tokens.

DOT 3.4.1 signs id_tokens with RS256 from ``OIDC_RSA_PRIVATE_KEY`` (or HS256 with the client's secret)
only. FAPI 2.0 Security Profile §5.4.1 allows PS256, ES256 and EdDSA (Ed25519) only, so the site may
add keys for those in ``MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"]``: a list of
``{"alg": "ES256", "kid": "es-2026", "key": "<PEM private key>"}`` (``"active": False`` keeps a
retired key in the JWKS, so tokens it signed still verify, without signing new ones). DOT's RSA key
keeps signing RS256 as before.

A client chooses with ``id_token_signed_response_alg`` (OIDC Dynamic Client Registration §2) on its
``ClientSecurityProfile``. Left blank, a client keeps DOT's algorithm, except under the FAPI 2.0 switch:
then the first key of a §5.4.1 algorithm in ``ID_TOKEN_SIGNING_KEYS`` signs.

The settings are checked by system checks mfa_oauth.E140–E143 / W140 (mfa_oauth.oauth.signing_checks).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwcrypto.jwk import JWK

from ..conf import settings as mfa_settings

RS256 = "RS256"
# What this module signs with (asymmetric only). RS256 is DOT's key; the others come from ID_TOKEN_SIGNING_KEYS.
SIGNING_ALGORITHMS = ("PS256", "ES256", "EdDSA", RS256)
FAPI2_ALGORITHMS = ("PS256", "ES256", "EdDSA")  # FAPI 2.0 Security Profile §5.4.1
SYMMETRIC_OR_NONE = ("HS256", "HS384", "HS512", "none")
MIN_RSA_BITS = 2048  # FAPI 2.0 Security Profile §5.4.1 point 2


class SigningKeyError(ValueError):
    """An entry of ``ID_TOKEN_SIGNING_KEYS`` that cannot sign; ``symmetric`` for HMAC/none/secret keys."""

    def __init__(self, message: str, symmetric: bool = False) -> None:
        super().__init__(message)
        self.symmetric = symmetric


class NoSigningKey(Exception):
    """A client's id_token algorithm has no active key at this site."""

    def __init__(self, alg: str) -> None:
        super().__init__(alg)
        self.alg = alg


@dataclass(frozen=True)
class SigningKey:
    alg: str
    kid: str
    jwk: JWK  # the private key
    active: bool = True

    def public_jwk(self) -> dict[str, Any]:
        """The JWKS entry (OIDC Discovery §3 jwks_uri, RFC 7517 §4): public members, kid, alg, use."""
        data = json.loads(self.jwk.export_public())
        data.update(kid=self.kid, alg=self.alg, use="sig")
        return data


def _private_key_of(value: Any) -> Any:
    """The cryptography private key of a PEM string (or bytes) or a private JWK dict."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if isinstance(value, dict):
        if value.get("kty") == "oct":
            raise SigningKeyError("is a symmetric (oct) key; id_tokens are signed with a private key", symmetric=True)
        try:
            jwk = JWK(**value)
        except Exception as error:  # jwcrypto raises several unrelated types for bad JWKs
            raise SigningKeyError(f"is not a valid JWK ({type(error).__name__})") from None
        if not jwk.has_private:
            raise SigningKeyError("is a public key; the site needs the private key to sign")
        return jwk.get_op_key("sign")
    if isinstance(value, str):
        value = value.replace("\\n", "\n").strip().encode()
    if not isinstance(value, bytes) or not value.startswith(b"-----BEGIN"):
        raise SigningKeyError("is not a PEM private key (a secret string cannot sign id_tokens)", symmetric=True)
    try:
        return load_pem_private_key(value, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError("is not an unencrypted PEM private key") from None
    except Exception as error:  # cryptography raises UnsupportedAlgorithm for odd key types
        raise SigningKeyError(f"cannot be loaded ({type(error).__name__})") from None


def _check_key_type(alg: str, key: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if alg in ("PS256", RS256):
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SigningKeyError(f"{alg} needs an RSA private key")
        if key.key_size < MIN_RSA_BITS:
            raise SigningKeyError(f"RSA key of {key.key_size} bits is too short (at least {MIN_RSA_BITS})")
    elif alg == "ES256":
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise SigningKeyError("ES256 needs an EC P-256 private key")
    elif alg == "EdDSA":
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise SigningKeyError("EdDSA needs an Ed25519 private key (FAPI 2.0 §5.4.1: the Ed25519 variant)")


def parse_entry(entry: Any) -> SigningKey:
    """One entry of ``ID_TOKEN_SIGNING_KEYS``; :class:`SigningKeyError` says what is wrong with it."""
    if not isinstance(entry, dict):
        raise SigningKeyError('is not a dict {"alg": ..., "kid": ..., "key": ...}')
    alg = entry.get("alg")
    if alg in SYMMETRIC_OR_NONE:
        raise SigningKeyError(f"alg {alg!r} is symmetric or none; id_tokens are signed asymmetrically", symmetric=True)
    if alg not in FAPI2_ALGORITHMS and alg != RS256:
        raise SigningKeyError(f"alg {alg!r} is not one of {', '.join(SIGNING_ALGORITHMS)}")
    if "key" not in entry:
        raise SigningKeyError('has no "key" (a PEM private key)')
    key = _private_key_of(entry["key"])
    _check_key_type(alg, key)
    jwk = JWK.from_pyca(key)
    kid = entry.get("kid") or jwk.thumbprint()
    if not isinstance(kid, str):
        raise SigningKeyError("kid must be a string")
    return SigningKey(alg=alg, kid=kid, jwk=jwk, active=bool(entry.get("active", True)))


def _freeze(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


# Parsed keys by the settings they were parsed from (tests and projects may change the settings).
_PARSED: dict[str, tuple[SigningKey, ...]] = {}


def _parse_all(configured: list, dot_pem: str, dot_inactive: list) -> tuple[SigningKey, ...]:
    keys: list[SigningKey] = []
    if dot_pem:
        # DOT's own key, with DOT's kid (the JWK thumbprint, as DOT's JwksInfoView publishes it).
        for index, pem in enumerate([dot_pem, *dot_inactive]):
            jwk = JWK.from_pem(pem.encode() if isinstance(pem, str) else pem)
            keys.append(SigningKey(alg=RS256, kid=jwk.thumbprint(), jwk=jwk, active=index == 0))
    for entry in configured:
        try:
            keys.append(parse_entry(entry))
        except SigningKeyError:
            continue  # reported by system checks mfa_oauth.E140/E141; never signs
    return tuple(keys)


def site_keys() -> tuple[SigningKey, ...]:
    """Every key of the site: DOT's RSA keys (RS256), then ID_TOKEN_SIGNING_KEYS, in their order."""
    from oauth2_provider.settings import oauth2_settings

    configured = mfa_settings.ID_TOKEN_SIGNING_KEYS
    configured = [configured] if isinstance(configured, dict) else list(configured or [])
    dot_pem = oauth2_settings.OIDC_RSA_PRIVATE_KEY or ""
    dot_inactive = list(oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE or [])
    fingerprint = _freeze([configured, dot_pem, dot_inactive])
    keys = _PARSED.get(fingerprint)
    if keys is None:
        if len(_PARSED) > 8:
            _PARSED.clear()
        keys = _PARSED[fingerprint] = _parse_all(configured, dot_pem, dot_inactive)
    return keys


def signing_key(alg: str) -> SigningKey:
    """The key that signs ``alg`` now: the first active one."""
    for key in site_keys():
        if key.alg == alg and key.active:
            return key
    raise NoSigningKey(alg)


def available_algorithms() -> list[str]:
    """The algorithms the site can sign id_tokens with (OIDC Discovery §3
    ``id_token_signing_alg_values_supported``), in the order of the settings."""
    found: list[str] = []
    for key in site_keys():
        if key.active and key.alg not in found:
            found.append(key.alg)
    return found


def fapi_default() -> str | None:
    """The algorithm of a FAPI 2.0 client that chose none: the first §5.4.1 key of ID_TOKEN_SIGNING_KEYS."""
    return next((alg for alg in available_algorithms() if alg in FAPI2_ALGORITHMS), None)


def algorithm_for(application) -> str | None:
    """The alg of the client's id_tokens; None: DOT's own (the client's ``algorithm``, RS256 or HS256).

    :class:`NoSigningKey` when the client (or the FAPI 2.0 switch) needs an algorithm the site has no key for."""
    try:
        profile = application.mfa_security
    except Exception:  # no ClientSecurityProfile
        return None
    chosen = getattr(profile, "id_token_signed_response_alg", "") or ""
    if chosen:
        return chosen
    if profile.fapi2_security_profile:
        default = fapi_default()
        if default is None:
            raise NoSigningKey("PS256, ES256 or EdDSA")
        return default
    return None


def verification_key(alg: str, kid: str) -> JWK | None:
    """The site key with this kid and alg (an id_token_hint or logout hint signed by us), or None."""
    for key in site_keys():
        if key.kid == kid and key.alg == alg:
            return key.jwk
    return None


def public_jwks() -> list[dict[str, Any]]:
    return [key.public_jwk() for key in site_keys()]


def hash_function(alg: str) -> Callable[[bytes], Any]:
    """OIDC Core §3.1.3.6 / §3.3.2.11: at_hash and c_hash use the hash of the alg's JWS signature.

    Ed25519 (EdDSA) signs with SHA-512 inside (RFC 8032 §5.1), and SHA-512 is what the OpenID
    Connect errata and the FAPI 2.0 conformance suite use; authlib (``create_half_hash``) and
    requests-oauth2client (``IdToken.hash_method``) verify it so."""
    if alg == "EdDSA":
        return hashlib.sha512
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}.get(alg[-3:])
    if digest is None:
        raise ValueError(f"no hash function for {alg!r}")
    return digest


def half_hash(value: str, alg: str) -> str:
    """base64url of the left half of the alg's hash of ``value`` (at_hash, c_hash)."""
    digest = hash_function(alg)(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode("ascii").rstrip("=")


def metadata(data: dict) -> None:
    """OIDC Discovery §3 ``id_token_signing_alg_values_supported``: what the site can sign (RS256 first,
    which §3 requires), keeping DOT's HS256 (the client's secret) at the end."""
    dot = [alg for alg in data.get("id_token_signing_alg_values_supported", []) if alg not in SIGNING_ALGORITHMS]
    ours = available_algorithms()
    ours.sort(key=lambda alg: alg != RS256)
    data["id_token_signing_alg_values_supported"] = [*ours, *dot]
