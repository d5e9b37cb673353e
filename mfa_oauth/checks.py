"""System checks for settings that would silently weaken the provider."""

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from .conf import MAX_FAILED_ATTEMPTS_CEILING
from .hashers import GeneratedSecretHasher


def _is_subclass(path: object, base: type) -> bool:
    """Whether the dotted path (or class) ``path`` names ``base`` or a subclass of it (a project's own
    subclass counts; a name that merely contains the base's name does not)."""
    cls, _shown = _resolve(path)
    return isinstance(cls, type) and issubclass(cls, base)


@register()
def check_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
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
    messages.extend(_check_dot_classes())
    hashers = list(getattr(settings, "PASSWORD_HASHERS", []) or [])
    messages.extend(_check_argon2(hashers))
    if hashers and _is_subclass(hashers[0], GeneratedSecretHasher):
        messages.append(
            Error(
                "PASSWORD_HASHERS starts with mfa_oauth.hashers.GeneratedSecretHasher, so user passwords "
                "would get a fast hash.",
                hint="List it last; it is meant only for OAUTH2_PROVIDER['CLIENT_SECRET_HASHER'].",
                id="mfa_oauth.E010",
            )
        )
    return messages


def _check_argon2(hashers: list) -> list[CheckMessage]:
    """An Argon2 hasher without argon2-cffi fails at the first password set or checked (a 500)."""
    argon2_hashers = [h for h in hashers if _is_subclass(h, Argon2PasswordHasher)]
    if not argon2_hashers:
        return []
    try:
        import argon2  # noqa: F401
    except ImportError:
        return [
            Error(
                f"PASSWORD_HASHERS lists {argon2_hashers[0]}, but argon2-cffi is not installed.",
                hint='pip install "mfa_oauth[argon2]" (or argon2-cffi), or remove the Argon2 hasher.',
                id="mfa_oauth.E004",
            )
        ]
    return []


# DOT's defaults for the classes it builds (oauth2_provider.settings.DEFAULTS).
_DOT_DEFAULT_CLASSES = {
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.Server",
    "OIDC_SERVER_CLASS": "oauthlib.openid.Server",
    "OAUTH2_VALIDATOR_CLASS": "oauth2_provider.oauth2_validators.OAuth2Validator",
}
SERVER_SETTING = "mfa_oauth.oauth.server.MFAServer"
VALIDATOR_SETTING = "mfa_oauth.oauth.validators.MFAOAuth2Validator"


def _resolve(value):
    """A class from a DOT class setting (a dotted path or a class), and how to name it in a message."""
    if isinstance(value, str):
        try:
            return import_string(value), value
        except ImportError as error:
            return None, f"{value} ({error})"
    return value, f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"


def _dot_setting(name: str):
    return (getattr(settings, "OAUTH2_PROVIDER", {}) or {}).get(name)


def _server_class_setting(oidc_enabled: bool):
    """What DOT builds as its server with OIDC on or off (oauth2_provider.settings.__getattr__)."""
    if _dot_setting("OAUTH2_SERVER_CLASS"):
        return _dot_setting("OAUTH2_SERVER_CLASS")
    if oidc_enabled:
        return _dot_setting("OIDC_SERVER_CLASS") or _DOT_DEFAULT_CLASSES["OIDC_SERVER_CLASS"]
    return _DOT_DEFAULT_CLASSES["OAUTH2_SERVER_CLASS"]


def _check_dot_classes() -> list[CheckMessage]:
    """DOT builds these classes itself; any other than ours would issue codes or tokens past the gate.

    The server is checked for both values of ``OIDC_ENABLED``: turning OIDC off must not bring back
    oauthlib's own server, which offers the password grant and the implicit flow (docs/security.md,
    "Deny by default")."""
    from .oauth.server import GatedFlows
    from .oauth.validators import MFAOAuth2Validator

    messages: list[CheckMessage] = []
    for oidc_enabled in (True, False):
        cls, shown = _resolve(_server_class_setting(oidc_enabled))
        if not (isinstance(cls, type) and issubclass(cls, GatedFlows)):
            mode = "on" if oidc_enabled else "off"
            messages.append(
                Error(
                    f"With OIDC_ENABLED {mode}, django-oauth-toolkit would run {shown}, which is not mfa_oauth's "
                    "server: it offers flows that skip the second factor (the password grant, implicit, hybrid).",
                    hint=f"Set OAUTH2_PROVIDER['OAUTH2_SERVER_CLASS'] = '{SERVER_SETTING}' (or a subclass of it).",
                    id="mfa_oauth.E002",
                )
            )
    cls, shown = _resolve(_dot_setting("OAUTH2_VALIDATOR_CLASS") or _DOT_DEFAULT_CLASSES["OAUTH2_VALIDATOR_CLASS"])
    if not (isinstance(cls, type) and issubclass(cls, MFAOAuth2Validator)):
        messages.append(
            Error(
                f"OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'] is {shown}, which is not mfa_oauth's validator: "
                "codes would not carry the gate's decision and tokens no acr/amr/auth_time.",
                hint=f"Set OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'] = '{VALIDATOR_SETTING}' (or a subclass of it).",
                id="mfa_oauth.E003",
            )
        )
    return messages


@register()
def check_lockout(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Second-factor lockout windows (mfa_oauth.lockout; docs/security.md, "Second-factor lockout")."""
    from .conf import settings as mfa_settings
    from .lockout import valid_windows

    messages: list[CheckMessage] = []
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


from . import settings_checks as _settings_checks  # noqa: E402,F401  (mfa_oauth.E120-E129, W120-W129)
from .throttle import checks as _login_throttle_checks  # noqa: E402,F401  (mfa_oauth.W020-W022, E020-E022)
