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


# --- A project missing a piece (mfa_oauth.E060-E079, W060-W079; docs/adoption.md) ----------------------

# The package's apps whose models live in their own app (label), so importing them without the app
# installed puts them into app ``mfa_oauth``: no migration, no table, a 500 at the first query.
OPTIONAL_APPS = (
    "mfa_oauth.sms",
    "mfa_oauth.webauthn",
    "mfa_oauth.device",
    "mfa_oauth.trust",
    "mfa_oauth.backup_codes",
    "mfa_oauth.audit",
    "mfa_oauth.notifications",
    "mfa_oauth.account",
    "mfa_oauth.operators",
    "mfa_oauth.hotp",
)
OTP_MIDDLEWARE = ("mfa_oauth.otp_middleware.LazyOTPMiddleware", "django_otp.middleware.OTPMiddleware")


@register()
def check_adoption(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """What a project adding mfa_oauth to its settings can forget; each message names the setting or app."""
    messages: list = []
    messages.extend(_check_stray_models())
    messages.extend(_check_oidc())
    messages.extend(_check_rfc9700())
    messages.extend(_check_pieces())
    return messages


def _check_stray_models() -> list[Error]:
    """A factor's URLs (or code) imported without its app: its models fell into app ``mfa_oauth``."""
    from django.apps import apps
    from django.urls import get_resolver

    try:
        # Loading the URLconf imports the views, and they their models.
        _ = get_resolver().url_patterns
    except Exception:  # noqa: BLE001  (django.core.checks.urls reports a broken URLconf itself)
        pass
    if not apps.is_installed("mfa_oauth"):
        return []
    stray: dict[str, list[str]] = {}
    for model in apps.get_app_config("mfa_oauth").get_models():
        for app in OPTIONAL_APPS:
            if model.__module__.startswith(app + ".") and not apps.is_installed(app):
                stray.setdefault(app, []).append(model.__name__)
    return [
        Error(
            f"{app} is not in INSTALLED_APPS, but its models ({', '.join(sorted(names))}) were imported, "
            "usually by including its URLs: they have no table.",
            hint=f"Add '{app}' to INSTALLED_APPS, or remove include('{app}.urls') from your URLconf.",
            id="mfa_oauth.E060",
        )
        for app, names in sorted(stray.items())
    ]


def _check_oidc() -> list[Error]:
    from oauth2_provider.settings import oauth2_settings

    if not oauth2_settings.OIDC_ENABLED:
        return []
    messages = []
    if not oauth2_settings.OIDC_RSA_PRIVATE_KEY:
        messages.append(
            Error(
                "OAUTH2_PROVIDER['OIDC_ENABLED'] is on but there is no signing key: the first id_token is a 500.",
                hint="Set OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'] to an RSA private key in PEM "
                "(openssl genrsa 4096), read from a file or the environment, not from the repository.",
                id="mfa_oauth.E061",
            )
        )
    if "openid" not in (oauth2_settings.SCOPES or {}):
        messages.append(
            Error(
                "OAUTH2_PROVIDER['SCOPES'] has no 'openid': clients cannot ask for an id_token, "
                "so they never see acr/amr/auth_time.",
                hint='Add "openid": "..." to OAUTH2_PROVIDER[\'SCOPES\'] (DOT\'s default is only read and write).',
                id="mfa_oauth.E062",
            )
        )
    return messages


def _check_rfc9700() -> list[Warning]:
    """The DOT settings that weaken what mfa_oauth promises (RFC 9700). DOT's own ``--deploy`` check
    (oauth2_provider.W001-W010) covers all its gates; these are the ones our guarantees rest on, named
    on every ``check``."""
    from oauth2_provider.settings import oauth2_settings

    flags = [
        (
            not oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS,
            "authorization responses carry no RFC 9207 'iss' (mix-up defense, RFC 9700 §4.4)",
            "Set OAUTH2_PROVIDER['COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS'] = True.",
            "mfa_oauth.W060",
        ),
        (
            not callable(oauth2_settings.PKCE_REQUIRED) and not oauth2_settings.PKCE_REQUIRED,
            "PKCE is not required, so a stolen code can be redeemed (RFC 9700 §2.1.1)",
            "Set OAUTH2_PROVIDER['PKCE_REQUIRED'] = True.",
            "mfa_oauth.W061",
        ),
        (
            bool(oauth2_settings.ALLOW_URI_WILDCARDS),
            "redirect URIs may contain wildcards instead of matching exactly (RFC 9700 §4.1.1)",
            "Set OAUTH2_PROVIDER['ALLOW_URI_WILDCARDS'] = False.",
            "mfa_oauth.W062",
        ),
        (
            not oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION,
            "a replayed refresh token does not revoke its family (RFC 9700 §4.14.2)",
            "Set OAUTH2_PROVIDER['REFRESH_TOKEN_REUSE_PROTECTION'] = True (and ROTATE_REFRESH_TOKEN = True).",
            "mfa_oauth.W063",
        ),
    ]
    return [Warning(f"RFC 9700: {text}.", hint=hint, id=check_id) for off, text, hint, check_id in flags if off]


def _check_pieces() -> list:
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse

    messages: list = []
    middleware = list(getattr(settings, "MIDDLEWARE", []) or [])
    if not any(m in middleware for m in OTP_MIDDLEWARE):
        messages.append(
            Error(
                "No django-otp middleware in MIDDLEWARE: the second factor can never be recorded on the request.",
                hint=f"Add '{OTP_MIDDLEWARE[0]}' to MIDDLEWARE after "
                "'django.contrib.auth.middleware.AuthenticationMiddleware'.",
                id="mfa_oauth.E063",
            )
        )
    if "mfa_oauth.lifetime.SessionLifetimeMiddleware" not in middleware:
        messages.append(
            Warning(
                "mfa_oauth.lifetime.SessionLifetimeMiddleware is not in MIDDLEWARE: MFA_OAUTH['SESSION_IDLE_TIMEOUT'] "
                "and ['SESSION_ABSOLUTE_TIMEOUT'] are not enforced (NIST SP 800-63B-4 §5.2).",
                hint="Add 'mfa_oauth.lifetime.SessionLifetimeMiddleware' to MIDDLEWARE after the OTP middleware.",
                id="mfa_oauth.W064",
            )
        )
    login_url = str(getattr(settings, "LOGIN_URL", "") or "")
    try:
        if login_url.startswith("/"):
            resolve(login_url.split("?", 1)[0])
        elif login_url:
            reverse(login_url)
    except (Resolver404, NoReverseMatch):
        messages.append(
            Error(
                f"LOGIN_URL {login_url!r} matches no URL: the authorization endpoint sends users to a 404.",
                hint='Add path("accounts/", include("mfa_oauth.auth_urls")) to your URLconf '
                "(Django's default LOGIN_URL is /accounts/login/), or set LOGIN_URL to your login view.",
                id="mfa_oauth.E064",
            )
        )
    except Exception:  # noqa: BLE001  (a broken URLconf is reported by Django's own URL check)
        pass
    return messages


from . import settings_checks as _settings_checks  # noqa: E402,F401  (mfa_oauth.E120-E129, W120-W129)
from .throttle import checks as _login_throttle_checks  # noqa: E402,F401  (mfa_oauth.W020-W022, E020-E022)


def _importable(path) -> bool:
    if callable(path):
        return True
    if not isinstance(path, str):
        return False
    try:
        return callable(import_string(path))
    except ImportError:
        return False


@register()
def check_claims(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """OIDC claims and pairwise subjects (docs/claims.md): a bad hook is a 500 at every token request."""
    from .conf import settings as mfa_settings

    messages: list[CheckMessage] = []
    key = mfa_settings.PAIRWISE_SUBJECT_KEY
    if key and (not isinstance(key, (str, bytes)) or len(key) < 32):
        messages.append(
            Error(
                "MFA_OAUTH['PAIRWISE_SUBJECT_KEY'] must be a secret of at least 32 characters.",
                hint="secrets.token_urlsafe(32); set it once and never change it: every pairwise sub depends on it.",
                id="mfa_oauth.E090",
            )
        )
    if not _importable(mfa_settings.USER_CLAIMS):
        messages.append(
            Error(
                f"MFA_OAUTH['USER_CLAIMS'] ({mfa_settings.USER_CLAIMS!r}) is not a dotted path to a function.",
                hint="A function user -> dict of OIDC claims; default: mfa_oauth.oauth.claims.default_user_claims.",
                id="mfa_oauth.E091",
            )
        )
    verified = mfa_settings.EMAIL_VERIFIED
    if not isinstance(verified, bool) and not _importable(verified):
        messages.append(
            Error(
                "MFA_OAUTH['EMAIL_VERIFIED'] must be True, False or a dotted path to a function user -> bool.",
                id="mfa_oauth.E092",
            )
        )
    return messages
