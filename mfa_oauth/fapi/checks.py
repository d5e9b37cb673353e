"""System checks for the FAPI 2.0 pieces (ids mfa_oauth.E100–E119 / W100–W119, W150; docs/fapi.md)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from ..conf import settings as mfa_settings

# What a signature may use here: FAPI 2.0 §5.4.1's list, and RS256 for sites that widen it knowingly.
_SUPPORTED = {"PS256", "ES256", "EdDSA", "RS256", "ES384", "PS384", "PS512", "ES512", "RS384", "RS512"}


@register()
def check_fapi_settings(app_configs, **kwargs):
    messages: list[CheckMessage] = []
    caches = getattr(settings, "CACHES", {}) or {}
    if mfa_settings.REPLAY_CACHE not in caches:
        messages.append(
            Error(
                f"MFA_OAUTH['REPLAY_CACHE'] is {mfa_settings.REPLAY_CACHE!r}, which is not in CACHES: client "
                "assertions and DPoP proofs could not be checked for replay.",
                hint="Name a CACHES alias shared by every web node (Redis).",
                id="mfa_oauth.E100",
            )
        )
    for name in ("CLIENT_ASSERTION_ALGORITHMS", "DPOP_ALGORITHMS", "REQUEST_OBJECT_ALGORITHMS"):
        value = getattr(mfa_settings, name)
        if isinstance(value, str) or not value or any(alg not in _SUPPORTED for alg in value):
            messages.append(
                Error(
                    f"MFA_OAUTH[{name!r}] must be a non-empty list of asymmetric JWS algorithms.",
                    hint='FAPI 2.0 §5.4.1: ["PS256", "ES256", "EdDSA"]; never "none" nor HS256.',
                    id="mfa_oauth.E101",
                )
            )
    lifetime = mfa_settings.PAR_LIFETIME
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 1 <= lifetime <= 60:
        messages.append(
            Warning(
                "MFA_OAUTH['PAR_LIFETIME'] is not an integer from 1 to 60; request_uri values live 60 s at most.",
                id="mfa_oauth.W100",
            )
        )
    longest = mfa_settings.REQUEST_OBJECT_MAX_LIFETIME
    if not isinstance(longest, int) or isinstance(longest, bool) or not 1 <= longest <= 3600:
        messages.append(
            Warning(
                "MFA_OAUTH['REQUEST_OBJECT_MAX_LIFETIME'] is not an integer from 1 to 3600: FAPI 2.0 Message "
                "Signing §5.3.1 allows a request object at most 60 minutes between nbf and exp.",
                id="mfa_oauth.W150",
            )
        )
    oauth = getattr(settings, "OAUTH2_PROVIDER", {}) or {}
    if not oauth.get("COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS", False):
        messages.append(
            Warning(
                "OAUTH2_PROVIDER['COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS'] is off: authorization responses "
                "carry no iss (RFC 9207), which FAPI 2.0 §5.3.2.2 requires for clients under the profile.",
                id="mfa_oauth.W101",
            )
        )
    return messages


@register(deploy=True)
def check_replay_cache_is_shared(app_configs, **kwargs):
    from ..throttle.checks import PER_PROCESS_CACHES

    alias = mfa_settings.REPLAY_CACHE
    backend = ((getattr(settings, "CACHES", {}) or {}).get(alias) or {}).get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        return [
            Warning(
                f"Used jti values of client assertions and DPoP proofs are kept in {alias!r} ({backend}), which "
                "each process keeps for itself: another worker or node accepts a replay (RFC 7523 §3, RFC 9449 §11.1).",
                hint="Use a shared cache (django.core.cache.backends.redis.RedisCache) for MFA_OAUTH['REPLAY_CACHE'].",
                id="mfa_oauth.W102",
            )
        ]
    return []
