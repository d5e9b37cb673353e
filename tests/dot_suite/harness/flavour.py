"""Which of the two runs this is: ``stock`` (DOT as released) or ``mfa_oauth`` (our validator,
server class and authorization view swapped in by settings and URLs). run.py sets it."""

import os

FLAVOUR = os.environ.get("DOT_SUITE_FLAVOUR", "stock")
if FLAVOUR not in ("stock", "mfa_oauth"):
    raise RuntimeError(f"DOT_SUITE_FLAVOUR must be 'stock' or 'mfa_oauth', not {FLAVOUR!r}")
OURS = FLAVOUR == "mfa_oauth"

# What a project sets to use mfa_oauth (README, "Using the app in your project"); the harness
# keeps these in every OAUTH2_PROVIDER a test installs (conftest.complete_provider_settings).
MFA_OAUTH_PROVIDER_SETTINGS = {
    "OAUTH2_VALIDATOR_CLASS": "mfa_oauth.oauth.validators.MFAOAuth2Validator",
    "OAUTH2_SERVER_CLASS": "mfa_oauth.oauth.server.MFAServer",
    "OIDC_SERVER_CLASS": "mfa_oauth.oauth.server.MFAServer",
}
