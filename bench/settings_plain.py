"""Plain django-oauth-toolkit: the bench's MFA site (``bench.settings_mfa``) with DOT's stock OAuth.

Same apps, middleware, hashers, sessions, cache and database settings; only the OAuth endpoints
differ: DOT's own URLs (stock ``AuthorizationView``, ``TokenView``, ``IntrospectTokenView``), DOT's
``OAuth2Validator`` and server class, so no second factor and no MFA gate. The comparison is then
"the same site with and without mfa_oauth on its OAuth endpoints".
"""

from bench.settings_mfa import *  # noqa: F401,F403
from bench.settings_mfa import OAUTH2_PROVIDER

ROOT_URLCONF = "bench.urls_plain"

OAUTH2_PROVIDER = {
    key: value
    for key, value in OAUTH2_PROVIDER.items()
    if key not in ("OAUTH2_VALIDATOR_CLASS", "OIDC_SERVER_CLASS", "OAUTH2_SERVER_CLASS")
}

# mfa_oauth.E002/E003 ("the server / validator is not mfa_oauth's") are this module's whole point.
SILENCED_SYSTEM_CHECKS = ["mfa_oauth.E002", "mfa_oauth.E003"]
