"""``private_key_jwt`` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9).

A client whose :class:`~mfa_oauth.fapi.models.ClientSecurityProfile` says ``private_key_jwt``
authenticates with a JWT it signed with one of its registered keys (inline JWK Set or ``jwks_uri``)
instead of a shared secret, at every endpoint that authenticates clients: token, PAR, introspection
and revocation. The hook is DOT's validator (``OAUTH2_VALIDATOR_CLASS``: oauthlib asks
``client_authentication_required`` then ``authenticate_client`` at all of them), see
:mod:`mfa_oauth.oauth.validators`.

What an assertion must be (RFC 7523 §3, FAPI 2.0 Security Profile §5.3.2.1):

- signed with an algorithm of ``CLIENT_ASSERTION_ALGORITHMS`` (never ``none``, never HMAC) by a key
  of the client's set;
- ``iss`` = ``sub`` = the client id (and = ``client_id`` when the request also carries one);
- ``aud`` names this server: its issuer identifier, or (RFC 7523 §3 point 3, RFC 9126 §2) the URL of
  the token endpoint, of the PAR endpoint, or of the introspection / revocation endpoint called;
- ``exp`` present, not past, and at most ``CLIENT_ASSERTION_MAX_LIFETIME`` seconds ahead; ``nbf`` and
  ``iat`` not in the future;
- a ``jti`` never seen before for this client (RFC 7523 §3 point 7): remembered in the shared
  ``REPLAY_CACHE`` until the assertion expires, so a second web node refuses it as well.

A client registered for ``private_key_jwt`` is no longer accepted with its secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from urllib.parse import urlsplit

from django.core.cache import caches
from django.urls import reverse
from jwcrypto.common import JWException
from jwcrypto.jwk import JWKSet
from jwcrypto.jwt import JWT
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings

from ..conf import settings as mfa_settings
from ..fapi.profile import algorithms_for
from ..jws_peek import unverified_payload
from .keys import KeysUnavailable, keyset_for

logger = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PRIVATE_KEY_JWT = "private_key_jwt"
MAX_ASSERTION_LENGTH = 16 * 1024


class InvalidAssertion(Exception):
    """The client assertion is refused; the message says why (logged, never a token)."""


def profile_of(application):
    try:
        return application.mfa_security
    except Exception:  # ClientSecurityProfile.DoesNotExist, or no application
        return None


def requires_assertion(application) -> bool:
    """Whether this client may only authenticate with ``private_key_jwt``."""
    profile = profile_of(application)
    # FAPI 2.0 §5.3.2.1 point 6: a client under the profile authenticates with private_key_jwt whatever else is set.
    return profile is not None and (
        profile.token_endpoint_auth_method == PRIVATE_KEY_JWT or profile.fapi2_security_profile
    )


def has_assertion(request) -> bool:
    """Whether an oauthlib request carries RFC 7523 §2.2 client assertion parameters."""
    return bool(getattr(request, "client_assertion", None) or getattr(request, "client_assertion_type", None))


def _unverified_claims(assertion: str) -> dict:
    # Only to find out which client's keys to verify with; every claim is checked after verification.
    try:
        return unverified_payload(assertion)
    except ValueError as error:
        raise InvalidAssertion(f"client_assertion: {error}") from error


def server_audiences(request) -> set[str]:
    """The ``aud`` values that name this server (see the module docstring)."""
    issuer = oauth2_settings.oidc_issuer(request)
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    audiences = {issuer, origin + reverse("oauth2_provider:token"), origin + reverse("oauth2_provider:par")}
    # The endpoint called (introspection, revocation): its URL names this server as well.
    path = urlsplit(getattr(request, "uri", "") or "").path
    for name in ("introspect", "revoke-token"):
        if path == reverse(f"oauth2_provider:{name}"):
            audiences.add(origin + path)
    return audiences


def verify(assertion: str, client_id: str | None, audiences: set[str], now: float | None = None):
    """The Application the assertion authenticates, or :class:`InvalidAssertion`."""
    if not isinstance(assertion, str) or not assertion or len(assertion) > MAX_ASSERTION_LENGTH:
        raise InvalidAssertion("client_assertion is missing or too long")
    unverified = _unverified_claims(assertion)
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer or len(issuer) > 200 or "\x00" in issuer:
        raise InvalidAssertion("client_assertion has no iss")
    if client_id and client_id != issuer:
        raise InvalidAssertion("client_assertion iss differs from client_id")
    application = get_application_model().objects.select_related("mfa_security").filter(client_id=issuer).first()
    if application is None or not requires_assertion(application):
        raise InvalidAssertion("the client is not registered for private_key_jwt")
    try:
        keys: JWKSet = keyset_for(application.mfa_security)
    except KeysUnavailable as error:
        raise InvalidAssertion(f"the client's keys are unavailable: {error}") from error
    algorithms = list(algorithms_for(application, mfa_settings.CLIENT_ASSERTION_ALGORITHMS))
    try:
        # check_claims=False: the claims are checked below with this module's rules and messages.
        token = JWT(jwt=assertion, key=keys, algs=algorithms, check_claims=False, expected_type="JWS")
        claims = json.loads(token.claims)
    except (JWException, ValueError, TypeError) as error:
        raise InvalidAssertion(f"client_assertion signature or algorithm refused: {error}") from error
    check_claims(claims, issuer, audiences, now=now)
    remember_jti(f"assertion:{issuer}", claims["jti"], claims["exp"], now=now)
    return application


def check_claims(claims: dict, client_id: str, audiences: set[str], now: float | None = None) -> None:
    now = time.time() if now is None else now
    leeway = mfa_settings.CLIENT_ASSERTION_LEEWAY
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise InvalidAssertion("iss and sub must both be the client id (RFC 7523 §3)")
    aud = claims.get("aud")
    aud_values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(value, str) and value in audiences for value in aud_values):
        raise InvalidAssertion("aud does not name this authorization server (RFC 7523 §3)")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise InvalidAssertion("exp is missing (RFC 7523 §3)")
    if exp < now - leeway:
        raise InvalidAssertion("the assertion has expired")
    if exp > now + mfa_settings.CLIENT_ASSERTION_MAX_LIFETIME + leeway:
        raise InvalidAssertion("the assertion lives too long (exp too far ahead)")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, (int, float)) or value > now + leeway):
            raise InvalidAssertion(f"{name} is in the future or not a number")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise InvalidAssertion("jti is missing (RFC 7523 §3)")


def remember_jti(scope: str, jti: str, exp: float, now: float | None = None) -> None:
    """Refuse a ``jti`` already seen in ``scope``; remember it until ``exp`` (plus the leeway).

    ``cache.add`` is atomic in Redis and in every Django backend within one process: of two nodes
    receiving the same value, one adds it and the other is refused."""
    now = time.time() if now is None else now
    timeout = max(1, int(exp - now) + mfa_settings.CLIENT_ASSERTION_LEEWAY + 1)
    cache = caches[mfa_settings.REPLAY_CACHE]
    digest = base64.urlsafe_b64encode(hashlib.sha256(jti.encode()).digest()).decode()
    if not cache.add(f"mfa_oauth:jti:{scope}:{digest}", 1, timeout=timeout):
        raise InvalidAssertion("jti was used before: replayed assertion")


def authenticate(request) -> bool:
    """``authenticate_client`` for an oauthlib request carrying a client assertion."""
    if getattr(request, "client_assertion_type", None) != ASSERTION_TYPE:
        logger.info("client authentication refused: client_assertion_type %r", request.client_assertion_type)
        return False
    try:
        application = verify(request.client_assertion, getattr(request, "client_id", None), server_audiences(request))
    except InvalidAssertion as error:
        logger.info("client assertion refused: %s", error)
        return False
    request.client = application
    request.client_id = application.client_id
    return True
