"""System checks for settings that would silently weaken the provider."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from .conf import MAX_FAILED_ATTEMPTS_CEILING


@register()
def check_settings(app_configs, **kwargs):
    messages = []
    overrides = getattr(settings, "MFA_OAUTH", {}) or {}
    cap = overrides.get("MAX_FAILED_ATTEMPTS")
    if cap is not None and (not isinstance(cap, int) or cap > MAX_FAILED_ATTEMPTS_CEILING or cap < 1):
        messages.append(
            Error(
                f"MFA_OAUTH['MAX_FAILED_ATTEMPTS'] must be an integer from 1 to {MAX_FAILED_ATTEMPTS_CEILING}.",
                hint="NIST SP 800-63B-4 §3.2.2 allows at most 100 consecutive failures.",
                id="mfa_oauth.E001",
            )
        )
    validator = (getattr(settings, "OAUTH2_PROVIDER", {}) or {}).get("OAUTH2_VALIDATOR_CLASS", "")
    if "mfa_oauth" not in str(validator):
        messages.append(
            Warning(
                "OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'] is not mfa_oauth's validator.",
                hint="Set it to 'mfa_oauth.oauth.validators.MFAOAuth2Validator' so tokens carry acr/amr/auth_time.",
                id="mfa_oauth.W001",
            )
        )
    hashers = list(getattr(settings, "PASSWORD_HASHERS", []) or [])
    if hashers and hashers[0] == "mfa_oauth.hashers.GeneratedSecretHasher":
        messages.append(
            Error(
                "PASSWORD_HASHERS starts with mfa_oauth.hashers.GeneratedSecretHasher, so user passwords "
                "would get a fast hash.",
                hint="List it last; it is meant only for OAUTH2_PROVIDER['CLIENT_SECRET_HASHER'].",
                id="mfa_oauth.E010",
            )
        )
    return messages


from .throttle import checks as _login_throttle_checks  # noqa: E402,F401  (mfa_oauth.W020-W022, E020-E022)
