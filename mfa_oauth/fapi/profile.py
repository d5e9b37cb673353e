"""The FAPI 2.0 Security Profile as one switch on a client (``ClientSecurityProfile.fapi2_security_profile``),
like Keycloak's client policies. What it turns on, by clause of FAPI 2.0 Security Profile (final) §5:

- §5.3.2.2 point 3: authorization requests only through PAR (:func:`mfa_oauth.par.required_for`);
- §5.3.2.1 points 3 and 6: confidential client authenticated with ``private_key_jwt``
  (:func:`mfa_oauth.client_auth.requires_assertion`; the secret is refused);
- §5.3.2.2 point 5: PKCE with S256 (checked at the PAR endpoint, :func:`authorization_request_errors`);
- §5.3.2.1 points 4 and 5 / §5.3.4 point 5: sender-constrained tokens, here DPoP: the token endpoint refuses a request
  without a proof (:func:`needs_dpop`);
- §5.3.2.2 point 1: ``response_type=code`` only, for every client of this server (mfa_oauth.oauth.server);
- §5.3.2.1 point 11: authorization codes of at most 60 seconds (:func:`code_too_old`);
- §5.3.2.2 point 8: redirect URIs https only (the client's registration, and each request);
- §5.4.1: PS256, ES256 or EdDSA for client assertions and DPoP proofs, whatever the site widened, and
  for the client's id_tokens (``id_token_signed_response_alg``, mfa_oauth.oauth.signing);
- §5.3.2.1 point 9: refresh tokens are not rotated (:func:`rotates_refresh_tokens`, asked by the
  validator's ``rotate_refresh_token``);
- §5.3.2.2 point 7, RFC 9207 ``iss`` in the authorization response: DOT's ``COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS``
  (system check ``mfa_oauth.E100`` when it is off and a client uses the profile).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

FAPI2_ALGORITHMS = ("PS256", "ES256", "EdDSA")
MAX_CODE_AGE = 60


def applies_to(application) -> bool:
    try:
        return bool(application.mfa_security.fapi2_security_profile)
    except Exception:  # no ClientSecurityProfile, or no application
        return False


def profile_errors(profile) -> list[str]:
    """Why a client's registration does not meet the profile (shown in the admin)."""
    errors = []
    application = profile.application
    if profile.token_endpoint_auth_method != "private_key_jwt":
        errors.append("FAPI 2.0 §5.3.2.1 point 6: the client authenticates with private_key_jwt.")
    if application.client_type != application.CLIENT_CONFIDENTIAL:
        errors.append("FAPI 2.0 §5.3.2.1 point 3: only confidential clients.")
    for uri in (application.redirect_uris or "").split():
        if urlsplit(uri).scheme != "https":
            errors.append(f"FAPI 2.0 §5.3.2.2: redirect URI {uri} is not https.")
    errors.extend(_id_token_algorithm_errors(profile))
    return errors


def _id_token_algorithm_errors(profile) -> list[str]:
    # FAPI 2.0 §5.4.1: id_tokens are JWTs too, so PS256, ES256 or EdDSA (mfa_oauth.oauth.signing).
    from ..oauth.signing import fapi_default

    chosen = getattr(profile, "id_token_signed_response_alg", "") or ""
    if chosen and chosen not in FAPI2_ALGORITHMS:
        return [f"FAPI 2.0 §5.4.1: id_tokens are signed with PS256, ES256 or EdDSA, not {chosen}."]
    if not chosen and fapi_default() is None:
        return [
            "FAPI 2.0 §5.4.1: id_tokens are signed with PS256, ES256 or EdDSA, and the site has no key for any "
            "of them (MFA_OAUTH['ID_TOKEN_SIGNING_KEYS'])."
        ]
    return []


def authorization_request_errors(parameters: dict) -> str | None:
    """What the PAR endpoint refuses for a profile client (None: nothing)."""
    if parameters.get("code_challenge_method") != "S256" or not parameters.get("code_challenge"):
        return "FAPI 2.0 §5.3.2.2: PKCE with code_challenge_method S256 is required"
    if urlsplit(parameters.get("redirect_uri", "")).scheme != "https":
        return "FAPI 2.0 §5.3.2.2: the redirect_uri must be https"
    if parameters.get("response_type") != "code":
        return "FAPI 2.0 §5.3.2.1: response_type must be code"
    return None


def code_too_old(record, now: float | None = None) -> bool:
    """FAPI 2.0 §5.3.2.1 point 11: a code is redeemed within 60 s of its issue."""
    now = time.time() if now is None else now
    return now - record.created.timestamp() > MAX_CODE_AGE


def algorithms_for(application, configured) -> tuple[str, ...]:
    """The site's algorithms, narrowed to §5.4.1's list for a profile client."""
    if applies_to(application):
        return tuple(a for a in configured if a in FAPI2_ALGORITHMS)
    return tuple(configured)


def rotates_refresh_tokens(application, site_setting: bool) -> bool:
    """FAPI 2.0 §5.3.2.1 point 9: the AS "shall not use refresh token rotation except in extraordinary
    circumstances"; other clients follow the site's ROTATE_REFRESH_TOKEN."""
    return False if applies_to(application) else bool(site_setting)


def needs_dpop(request) -> bool:
    """Whether a token request comes from a profile client and carries no DPoP proof.

    The client is read from the request without verifying it: this only ever refuses; the real
    authentication follows for every request that gets past it."""
    if request.META.get("HTTP_DPOP") or not request.POST.get("client_assertion"):
        # A profile client authenticates only with an assertion (no assertion: refused anyway), so a
        # token request with a secret costs no query here.
        return False
    from oauth2_provider.models import get_application_model

    from ..jws_peek import unverified_payload

    client_id = request.POST.get("client_id")
    if not client_id:
        try:
            client_id = unverified_payload(request.POST["client_assertion"]).get("iss")
        except ValueError:
            return False
    if not isinstance(client_id, str) or not client_id or len(client_id) > 200 or "\x00" in client_id:
        return False
    application = get_application_model().objects.select_related("mfa_security").filter(client_id=client_id).first()
    return application is not None and applies_to(application)
