"""DPoP: sender-constrained tokens (RFC 9449).

A client proves possession of a key with a DPoP proof, a JWT in the ``DPoP`` header signed by that
key, made for one HTTP request. The token endpoint binds the tokens it issues to the key's
thumbprint (RFC 7638, ``jkt``), so that a stolen token is useless without the private key; the
userinfo endpoint and ``mfa_oauth.resource`` verify a proof with every use of a bound token.

A proof is accepted when (RFC 9449 §4.3):

- it is one compact JWS with ``typ: dpop+jwt``, an ``alg`` of ``DPOP_ALGORITHMS`` and a public
  ``jwk`` in its header, and verifies with that key;
- ``htm`` is the request's method and ``htu`` its URL without query and fragment;
- ``iat`` is within ``DPOP_IAT_WINDOW`` seconds of now;
- its ``jti`` was never seen for this key (remembered in the shared ``REPLAY_CACHE``, so every web
  node refuses a replay);
- at a resource, ``ath`` is the hash of the access token presented (§4.2);
- when ``DPOP_NONCE_REQUIRED``, ``nonce`` is one this server handed out in ``DPoP-Nonce`` (§8):
  stateless, an HMAC of the time window, valid for the current and the previous window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from contextvars import ContextVar
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings as django_settings
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from ..conf import settings as mfa_settings

MAX_PROOF_LENGTH = 8 * 1024
# The key of the proof the token endpoint verified in this request (read by the validator).
_current_jkt: ContextVar[str | None] = ContextVar("mfa_oauth_dpop_jkt", default=None)


class DPoPError(Exception):
    """A refused proof: ``error`` is ``invalid_dpop_proof`` or ``use_dpop_nonce`` (RFC 9449 §7.1, §8)."""

    def __init__(self, description: str, error: str = "invalid_dpop_proof"):
        super().__init__(description)
        self.error = error
        self.description = description


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def access_token_hash(token: str) -> str:
    """``ath`` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII."""
    return _b64(hashlib.sha256(token.encode("ascii", "replace")).digest())


def normalized_htu(url: str) -> str:
    """The URL a proof's ``htu`` is compared with: no query, no fragment (§4.3 point 9), scheme and
    host in lower case, the default port dropped (RFC 3986 §6.2.3)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    scheme = parts.scheme.lower()
    if port and not ((scheme == "https" and port == 443) or (scheme == "http" and port == 80)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


# --- server nonces (RFC 9449 §8) ------------------------------------------------------------------


def _nonce_for(window: int) -> str:
    mac = hmac.new(django_settings.SECRET_KEY.encode(), f"dpop-nonce:{window}".encode(), hashlib.sha256).digest()
    return f"{window}.{_b64(mac[:16])}"


def current_nonce(now: float | None = None) -> str:
    now = time.time() if now is None else now
    return _nonce_for(int(now // int(mfa_settings.DPOP_NONCE_LIFETIME)))


def nonce_is_valid(nonce: object, now: float | None = None) -> bool:
    if not isinstance(nonce, str) or len(nonce) > 100:
        return False
    now = time.time() if now is None else now
    window = int(now // int(mfa_settings.DPOP_NONCE_LIFETIME))
    return any(hmac.compare_digest(nonce, _nonce_for(w)) for w in (window, window - 1))


# --- proofs ---------------------------------------------------------------------------------------


def verify_proof(
    proof: str | None,
    method: str,
    url: str,
    access_token: str | None = None,
    now: float | None = None,
) -> str:
    """The thumbprint (``jkt``) of the key that signed a valid proof for this request, else DPoPError."""
    from ..client_auth import InvalidAssertion, remember_jti

    now = time.time() if now is None else now
    if not isinstance(proof, str) or not proof or len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
        raise DPoPError("The DPoP header is not one compact JWS")
    try:
        jws = JWS()
        jws.deserialize(proof)
        header = jws.jose_header
    except (JWException, ValueError, TypeError) as error:
        raise DPoPError("The DPoP proof cannot be parsed") from error
    if not isinstance(header, dict) or header.get("typ") != "dpop+jwt":
        raise DPoPError('The DPoP proof must have typ "dpop+jwt"')
    alg = header.get("alg")
    if alg not in tuple(mfa_settings.DPOP_ALGORITHMS):
        raise DPoPError(f"The DPoP proof's alg must be one of {', '.join(mfa_settings.DPOP_ALGORITHMS)}")
    jwk_dict = header.get("jwk")
    if not isinstance(jwk_dict, dict):
        raise DPoPError("The DPoP proof carries no jwk")
    try:
        key = JWK(**jwk_dict)
    except (JWException, ValueError, TypeError) as error:
        raise DPoPError("The DPoP proof's jwk is not a key") from error
    if key.has_private or key.get("kty") == "oct":
        raise DPoPError("The DPoP proof's jwk must be a public key")
    try:
        jws.verify(key, alg=alg)
        claims = json.loads(jws.payload)
    except (JWException, ValueError, TypeError) as error:
        raise DPoPError("The DPoP proof's signature does not verify") from error
    if not isinstance(claims, dict):
        raise DPoPError("The DPoP proof's payload is not a JSON object")
    if claims.get("htm") != method:
        raise DPoPError("htm does not match the request method")
    htu = claims.get("htu")
    if not isinstance(htu, str) or normalized_htu(htu) != normalized_htu(url):
        raise DPoPError("htu does not match the request URL")
    iat = claims.get("iat")
    window = int(mfa_settings.DPOP_IAT_WINDOW)
    if not isinstance(iat, (int, float)) or isinstance(iat, bool) or abs(now - iat) > window:
        raise DPoPError("iat is missing or outside the accepted window")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise DPoPError("jti is missing")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise DPoPError("ath does not match the access token")
    if mfa_settings.DPOP_NONCE_REQUIRED and not nonce_is_valid(claims.get("nonce"), now):
        raise DPoPError("A DPoP nonce from this server is required", error="use_dpop_nonce")
    jkt = key.thumbprint()  # RFC 7638, SHA-256, base64url
    try:
        # Last: a proof refused for another reason does not burn its jti.
        remember_jti(f"dpop:{jkt}", jti, iat + window, now=now)
    except InvalidAssertion as error:
        raise DPoPError("The DPoP proof was used before") from error
    return jkt


def bound_key():
    """The ``jkt`` the token endpoint verified in this request, or None (a bearer token)."""
    return _current_jkt.get()


class binding:
    """``with binding(jkt):`` the token endpoint's DOT call sees the verified key."""

    def __init__(self, jkt: str | None):
        self.jkt = jkt

    def __enter__(self):
        self._token = _current_jkt.set(self.jkt)
        self._bound = _bound.set(False)
        return self

    def __exit__(self, *exc):
        _current_jkt.reset(self._token)
        _bound.reset(self._bound)
        return False


def metadata(data: dict) -> dict:
    """Discovery: ``dpop_signing_alg_values_supported`` (RFC 9449 §5.1)."""
    data["dpop_signing_alg_values_supported"] = list(mfa_settings.DPOP_ALGORITHMS)
    return data


# --- binding tokens to the key (used by mfa_oauth.oauth.validators) -------------------------------


def valid_jkt(value: object) -> bool:
    """A SHA-256 JWK thumbprint: 43 base64url characters."""
    return isinstance(value, str) and len(value) == 43 and all(c.isalnum() or c in "-_" for c in value)


def requested_jkt(request) -> str:
    """The ``dpop_jkt`` of an (oauthlib) authorization request, already checked, or ''."""
    value = getattr(request, "dpop_jkt", None)
    return value if isinstance(value, str) and valid_jkt(value) else ""


def bind_record(record) -> None:
    """Bind the token family of ``record`` to the key of this token request's proof, if any.

    A family is bound once: validate_code / validate_refresh_token refuse a request whose proof
    names another key, so a record already bound stays as it is."""
    state = _current_jkt.get()
    if state and record.dpop_jkt != state:
        record.dpop_jkt = state
        type(record).objects.filter(pk=record.pk).update(dpop_jkt=state)
    if state:
        _bound.set(True)


def bind_token() -> str:
    """The key a token issued without an authentication record (``client_credentials``) is bound to:
    the proof's, or '' for a bearer token (RFC 9449 §5; FAPI 2.0 §5.3.2.1 sender-constrained tokens).
    The caller stores it on the token's link row."""
    state = _current_jkt.get()
    if state:
        _bound.set(True)
    return state or ""


_bound: ContextVar[bool] = ContextVar("mfa_oauth_dpop_bound", default=False)


def was_bound() -> bool:
    """Whether the token endpoint bound the tokens it issued in this request (token_type DPoP)."""
    return _bound.get()


# --- HTTP: the endpoints' side --------------------------------------------------------------------


def endpoint_url(request) -> str:
    """The URL a proof for this Django request must name (``htu``): scheme, host, path."""
    return normalized_htu(request.build_absolute_uri(request.path))


def proof_of_request(request, access_token: str | None = None) -> str | None:
    """The ``jkt`` of the request's DPoP proof; None without a ``DPoP`` header; DPoPError if bad.

    RFC 9449 §4.3 point 1: exactly one DPoP header (Django joins repeated headers with commas)."""
    proof = request.META.get("HTTP_DPOP")
    if proof is None:
        return None
    if "," in proof:
        raise DPoPError("Exactly one DPoP header is allowed")
    return verify_proof(proof, request.method, endpoint_url(request), access_token=access_token)


def error_response(error: DPoPError, status: int = 400):
    """The token endpoint's answer to a refused proof (RFC 9449 §5.0, §8: with a fresh nonce)."""
    from django.http import JsonResponse

    response = JsonResponse({"error": error.error, "error_description": error.description}, status=status)
    response["Cache-Control"] = "no-store"
    if error.error == "use_dpop_nonce" or mfa_settings.DPOP_NONCE_REQUIRED:
        response["DPoP-Nonce"] = current_nonce()
    return response


def token_response(response, bound: bool):
    """A successful token response for bound tokens says ``token_type: DPoP`` (RFC 9449 §5)."""
    if mfa_settings.DPOP_NONCE_REQUIRED:
        response["DPoP-Nonce"] = current_nonce()
    if not bound or response.status_code != 200:
        return response
    try:
        data = json.loads(response.content)
    except ValueError:
        return response
    if isinstance(data, dict) and "access_token" in data:
        data["token_type"] = "DPoP"
        response.content = json.dumps(data).encode()
    return response
