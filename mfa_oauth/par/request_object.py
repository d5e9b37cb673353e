"""Signed request objects at the PAR endpoint (RFC 9126 §3, RFC 9101).

A client may push its authorization request as one JWS, the ``request`` parameter, instead of form
fields. This module turns such an object into the parameters of a pushed request, or refuses it with
``invalid_request_object`` (RFC 9101 §7). What an object must be:

- a compact JWS (RFC 9101 §4; an encrypted object, RFC 9101 §6.1, is not accepted) with ``typ``
  absent, ``JWT`` or ``oauth-authz-req+jwt`` (RFC 9101 §10.8);
- signed with an algorithm of ``REQUEST_OBJECT_ALGORITHMS`` (never ``none`` nor HMAC; narrowed to
  FAPI 2.0 §5.4.1's list for a client under the profile) by a key of the client's registered set,
  its inline JWK Set or its ``jwks_uri``, resolved as for ``private_key_jwt`` (RFC 9101 §6.2);
- ``iss`` = the client id and ``aud`` = this server's issuer identifier (RFC 9101 §4, FAPI 2.0
  Message Signing §5.3.1);
- ``client_id`` = the client that authenticated at the endpoint (RFC 9126 §3 point 3);
- ``exp`` present, not past and at most ``REQUEST_OBJECT_MAX_LIFETIME`` seconds ahead; ``nbf`` and
  ``iat`` not in the future; ``exp`` at most that many seconds after ``nbf``, so ``nbf`` is never
  older than that either (FAPI 2.0 Message Signing §5.3.1 allows 60 minutes for both);
- a ``jti`` never seen before for this client, remembered in the shared ``REPLAY_CACHE`` until
  the object expires, as client assertions are (:func:`mfa_oauth.client_auth.remember_jti`);
- no ``request`` or ``request_uri`` inside (RFC 9101 §4).

Its claims, less the JWT's own (``iss``, ``aud``, ``exp``, ...), are then the whole authorization
request: form fields other than ``client_id`` and the client's credentials are not used (RFC 9101
§6.3, RFC 9126 §3). Numbers become decimal strings; ``authorization_details`` (RFC 9396 §3, a JSON
array here) and ``claims`` (OIDC Core §6.1, a JSON object) are serialized as a form would carry them.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from jwcrypto.common import JWException
from jwcrypto.jwt import JWT
from oauth2_provider.settings import oauth2_settings

from .. import client_auth
from ..client_auth.keys import KeysUnavailable, keyset_for
from ..conf import settings as mfa_settings
from ..fapi.profile import algorithms_for
from ..jws_peek import unverified_header, unverified_payload

MAX_LENGTH = 64 * 1024
ACCEPTED_TYPES = ("JWT", "oauth-authz-req+jwt")
# The JWT's own claims (RFC 7519 §4.1): they describe the object, not the authorization request.
JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
# Parameters whose value is JSON inside a request object but a JSON string in a form.
JSON_PARAMETERS = {"authorization_details": list, "claims": dict}


class InvalidRequestObject(Exception):
    """The request object is refused (RFC 9101 §7 ``invalid_request_object``); the message says why."""


def _verified_claims(token: str, application) -> dict:
    if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
        raise InvalidRequestObject("the request parameter is empty or too long")
    parts = token.split(".")
    if len(parts) == 5:
        raise InvalidRequestObject("encrypted request objects are not accepted; sign it (RFC 9101 §6.1)")
    try:
        unverified_payload(token)  # the shape of a compact JWS with a JSON object as its payload
        header = unverified_header(token)
    except ValueError as error:
        raise InvalidRequestObject(f"the request object is not a signed JWT: {error}") from error
    algorithms = list(algorithms_for(application, mfa_settings.REQUEST_OBJECT_ALGORITHMS))
    alg = header.get("alg")
    if alg not in algorithms:
        raise InvalidRequestObject(
            f"the request object's alg {alg!r} is not accepted; use one of {', '.join(algorithms)} (RFC 9101 §6.2)"
        )
    if "typ" in header and header["typ"] not in ACCEPTED_TYPES:
        raise InvalidRequestObject('the request object\'s typ must be "oauth-authz-req+jwt" (RFC 9101 §10.8)')
    try:
        profile = application.mfa_security
    except Exception:  # no ClientSecurityProfile: no keys registered
        profile = None
    if profile is None:
        raise InvalidRequestObject("the client has no registered keys (jwks or jwks_uri) to verify the request object")
    try:
        keys = keyset_for(profile)
    except KeysUnavailable as error:
        raise InvalidRequestObject(f"the client's keys are unavailable: {error}") from error
    try:
        # check_claims=False: the claims are checked below with this module's rules and messages.
        verified = JWT(jwt=token, key=keys, algs=algorithms, check_claims=False, expected_type="JWS")
    except (JWException, ValueError, TypeError) as error:
        raise InvalidRequestObject("the request object's signature does not verify with the client's keys") from error
    try:
        claims = json.loads(verified.claims)
    except (ValueError, TypeError) as error:  # ValueError: also an integer of more than 4300 digits
        raise InvalidRequestObject("the request object's payload is not JSON this server can read") from error
    if not isinstance(claims, dict):
        raise InvalidRequestObject("the request object's payload is not a JSON object")
    if _has_nul(claims):
        # As refuse_nul does for form fields (mfa_oauth.oauth.nul): no OAuth parameter holds NUL, and
        # PostgreSQL cannot store one.
        raise InvalidRequestObject("a claim of the request object contains a NUL character")
    return claims


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _number(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidRequestObject(f"{name} must be a number (RFC 7519 §4.1)")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidRequestObject(f"{name} is not a finite number")
    return number


def check_claims(claims: dict, client_id: str, issuer: str, now: float | None = None) -> None:
    """The rules of the module docstring for the object's own claims."""
    now = time.time() if now is None else now
    leeway = mfa_settings.CLIENT_ASSERTION_LEEWAY
    longest = mfa_settings.REQUEST_OBJECT_MAX_LIFETIME
    if claims.get("iss") != client_id:
        raise InvalidRequestObject("iss must be the client id (RFC 9101 §4)")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if issuer not in audiences:
        raise InvalidRequestObject(f"aud must be this server's issuer identifier, {issuer} (RFC 9101 §4)")
    if claims.get("client_id") != client_id:
        raise InvalidRequestObject("client_id in the request object must be the authenticated client (RFC 9126 §3)")
    exp = _number(claims, "exp")
    if exp is None:
        raise InvalidRequestObject("exp is missing: a request object must expire")
    if exp < now - leeway:
        raise InvalidRequestObject("the request object has expired (exp)")
    if exp > now + longest + leeway:
        raise InvalidRequestObject(f"the request object lives too long: exp is more than {longest} s ahead")
    for name in ("nbf", "iat"):
        value = _number(claims, name)
        if value is not None and value > now + leeway:
            raise InvalidRequestObject(f"{name} is in the future")
    nbf = _number(claims, "nbf")
    if nbf is not None and exp - nbf > longest:
        # FAPI 2.0 Message Signing §5.3.1: exp at most 60 minutes after nbf (here the site's bound).
        raise InvalidRequestObject(f"exp is more than {longest} s after nbf")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise InvalidRequestObject("jti is missing: it lets this server refuse a replayed request object")


def _as_parameter(name: str, value: Any) -> str:
    expected = JSON_PARAMETERS.get(name)
    if expected is not None and isinstance(value, expected):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # RFC 9101 §4: numerical values are JSON numbers (max_age)
    raise InvalidRequestObject(f"the {name} claim must be a string or an integer (RFC 9101 §4)")


def parameters(token: str, application, request) -> dict[str, str]:
    """The authorization request that ``token`` (the ``request`` parameter) carries for ``application``,
    the client authenticated at the PAR endpoint; :class:`InvalidRequestObject` otherwise."""
    claims = _verified_claims(token, application)
    check_claims(claims, application.client_id, oauth2_settings.oidc_issuer(request))
    for name in ("request", "request_uri"):
        if name in claims:
            raise InvalidRequestObject(f"a request object must not contain {name} (RFC 9101 §4)")
    pushed = {name: _as_parameter(name, value) for name, value in claims.items() if name not in JWT_CLAIMS}
    try:
        client_auth.remember_jti(f"request_object:{application.client_id}", claims["jti"], claims["exp"])
    except client_auth.InvalidAssertion as error:
        raise InvalidRequestObject("jti was used before: a replayed request object") from error
    return pushed
