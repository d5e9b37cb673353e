"""Settings of the harness DOT's test modules run in, for both runs (``flavour.FLAVOUR``).

Written for this repository from what DOT's modules expect of their settings: the ``tests`` app
and its models, ``LoginRequiredMiddleware`` on (modules marked ``nologinrequiredmiddleware``
drop it, conftest.py), an RSA key in ``OIDC_RSA_PRIVATE_KEY`` (and one inactive key), SQLite in
memory. The ``mfa_oauth`` run adds what the README's "Using the app in your project" needs for
the gate to run (the apps and the OTP middleware) and the three classes of
``flavour.MFA_OAUTH_PROVIDER_SETTINGS``; nothing else of the project's settings.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .flavour import MFA_OAUTH_PROVIDER_SETTINGS, OURS


def _rsa_pem() -> str:
    # A fresh key per run: DOT's two JWKS tests compare with the kid of the key of DOT's own harness,
    # so they fail in both runs alike (docs/dot-suite.md).
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode("ascii")


SECRET_KEY = "dot-suite-harness-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "example.com"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True
SITE_ID = 1
STATIC_URL = "/static/"
ROOT_URLCONF = "tests.urls"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",  # test speed only
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "tests.custom_hasher.FastPBKDF2PasswordHasher",
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.messages",
    "rest_framework",
    "oauth2_provider",
    "tests",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DOT's defaults, spelled out (DOT's migrations and swappable models read these names).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"

OIDC_RSA_PRIVATE_KEY = _rsa_pem()
OIDC_RSA_PRIVATE_KEYS_INACTIVE = [_rsa_pem()]
OAUTH2_PROVIDER = {
    # No OIDC_ISS_ENDPOINT: DOT's modules expect the issuer derived from the request unless a
    # preset (presets.OIDC_SETTINGS_RW) names one.
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    # DOT caches the oauthlib server per view class; tests change the settings it is built from.
    "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
}

if OURS:
    INSTALLED_APPS += [
        "django_otp",
        "django_otp.plugins.otp_totp",
        "django_otp.plugins.otp_hotp",
        "mfa_oauth",
        "mfa_oauth.backup_codes",
        # The apps of the README's quick start; the optional factor apps (SMS, WebAuthn, ...) stay
        # out, as in a project that has not opted in to them.
    ]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "mfa_oauth.otp_middleware.LazyOTPMiddleware",
    )
    OAUTH2_PROVIDER.update(MFA_OAUTH_PROVIDER_SETTINGS)
    # The default policy, spelled out: a second factor is asked of users who have one. DOT's tests
    # create users without one, so they pass the gate on their password (docs/dot-suite.md).
    MFA_OAUTH = {
        "DEFAULT_MFA_MODE": "when_enrolled",
        # A site's own key for the OTP seeds at rest (check mfa_oauth.E050 refuses the SECRET_KEY-
        # derived default, and DOT's suite runs `manage.py check`). Not a secret: a test harness.
        "SEED_KEYS": ["dot-suite-harness-seed-key-0123456789abcdef"],
    }
