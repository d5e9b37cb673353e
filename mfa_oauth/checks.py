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


@register()
def check_lockout(app_configs, **kwargs):
    """Second-factor lockout windows (mfa_oauth.lockout; docs/security.md, "Second-factor lockout")."""
    from .conf import settings as mfa_settings
    from .lockout import valid_windows

    messages = []
    overrides = getattr(settings, "MFA_OAUTH", {}) or {}
    if "LOCKOUT_WINDOWS" in overrides and not valid_windows(overrides["LOCKOUT_WINDOWS"]):
        messages.append(
            Error(
                "MFA_OAUTH['LOCKOUT_WINDOWS'] must be a non-empty list of positive whole seconds.",
                hint="For example [900, 3600, 14400, 86400]; until it is fixed the documented defaults apply.",
                id="mfa_oauth.E030",
            )
        )
    if not isinstance(overrides.get("PASSKEY_USABLE_WHILE_LOCKED", True), bool):
        messages.append(Error("MFA_OAUTH['PASSKEY_USABLE_WHILE_LOCKED'] must be True or False.", id="mfa_oauth.E031"))
    if mfa_settings.MAX_FAILED_ATTEMPTS >= MAX_FAILED_ATTEMPTS_CEILING:
        messages.append(
            Warning(
                f"MFA_OAUTH['MAX_FAILED_ATTEMPTS'] is {MAX_FAILED_ATTEMPTS_CEILING}: the first lock reaches the NIST "
                "ceiling and lasts until an operator unlocks it, so whoever knows a password can lock its owner "
                "out of every code factor.",
                hint="Use a smaller cap (the default is 10) so locks end after LOCKOUT_WINDOWS.",
                id="mfa_oauth.W030",
            )
        )
    return messages
