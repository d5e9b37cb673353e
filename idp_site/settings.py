"""Settings of the reference identity provider.

With no environment at all this is the embedded default: SQLite in ./var, Celery eager, SMS on
the console, a development signing key generated into ./var (outside git). Every production knob
comes from the environment (see .env.example).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _  # scope descriptions, shown on the consent page

from .keys import load_id_token_keys, load_seed_keys, load_signing_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IDP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


if env_bool("IDP_PRODUCTION", False):
    # Production: check the whole environment first; a bad value stops here with one line.
    from .production import validate

    validate()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-secret-key-change-me-" + "x" * 20)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "mfa_oauth.operators.apps.MFAAdminConfig",  # django.contrib.admin with a second factor for staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "idp_site.otp_apps.TOTPConfig",  # django_otp.plugins.otp_totp, named for the admin
    "idp_site.otp_apps.HOTPConfig",  # django_otp.plugins.otp_hotp
    "oauth2_provider",
    "mfa_oauth",
    "mfa_oauth.backup_codes",
    "mfa_oauth.sms",
    "idp_site",
    "idp_site.demo.apps.DemoConfig",
    "mfa_oauth.webauthn",
    "mfa_oauth.hotp",
    "mfa_oauth.device",
    "mfa_oauth.trust",
    "idp_site.api",
    "mfa_oauth.audit",
    "mfa_oauth.notifications",
    "mfa_oauth.account",
    "mfa_oauth.operators",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (CSS, mfa_oauth/webauthn.js) also when DEBUG is off, as in `make run`.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the set_language cookie (the switcher in base.html), else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    # ...except on the pages continuing an authorization request: its ui_locales (OIDC Core §3.1.2.1).
    "mfa_oauth.oauth.hints.UILocalesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mfa_oauth.otp_middleware.LazyOTPMiddleware",  # django-otp's, without a query per request
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mfa_oauth.middleware.SecurityHeadersMiddleware",
    "mfa_oauth.lifetime.SessionLifetimeMiddleware",
    "mfa_oauth.trust.middleware.TrustedBrowserCookieMiddleware",
]

ROOT_URLCONF = "idp_site.urls"
WSGI_APPLICATION = "idp_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "idp_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'idp.sqlite3'}", conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0"))
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several gunicorn workers share one file. BEGIN IMMEDIATE: a transaction that will write takes the
    # write lock up front, so concurrent writers queue instead of failing half-way with "database is
    # locked" (a deferred transaction cannot wait to upgrade its read lock; select_for_update is a no-op
    # here). WAL: readers never wait for the writer. timeout: how long a writer queues (seconds).
    # synchronous=NORMAL is durable across application crashes in WAL mode (not across power loss).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "20")),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Persistent connections (unless CONN_MAX_AGE says otherwise): a worker that closes its connection
    # after every request, as Django does with CONN_MAX_AGE=0, reopens the file and re-runs the PRAGMAs
    # on the next one, and when it was the last connection to the file SQLite checkpoints the WAL into
    # it and deletes it on close: work of every request that a kept connection does once.
    if "CONN_MAX_AGE" not in os.environ:
        DATABASES["default"]["CONN_MAX_AGE"] = 600
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id at OWASP's parameters (~20 ms a hash); PBKDF2 hashes from before are upgraded at the next
# login. The last entry only verifies OAuth client secrets (OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]).
PASSWORD_HASHERS = [
    "mfa_oauth.hashers.OWASPArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "mfa_oauth.hashers.GeneratedSecretHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The languages mfa_oauth ships catalogues for (mfa_oauth/locale); the switcher lists these.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ja", "日本語"),
    ("pt-br", "Português (Brasil)"),
    ("zh-hans", "简体中文"),
]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve straight from the apps' static folders when collectstatic has not been run (embedded default).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing STATIC_ROOT

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Django's database sessions, two statements lighter per key rotation (idp_site/sessions).
SESSION_ENGINE = "idp_site.sessions.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# same-origin, not no-referrer: under no-referrer browsers send "Origin: null" on every form POST,
# which Django's CSRF check refuses (login, MFA and consent all broke in Chromium). same-origin still
# sends nothing to any other origin (RFC 9700 §4.2.4's intent).
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Caches: per-process memory for the embedded default; Redis in production (see .env.example).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
    }

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "idp@localhost")

# --- OAuth 2.0 / OpenID Connect (django-oauth-toolkit) -------------------------------------------
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": load_signing_key(VAR_DIR),
    "OAUTH2_VALIDATOR_CLASS": "mfa_oauth.oauth.validators.MFAOAuth2Validator",
    # Generated client secrets are high-entropy: a fast salted hash, not a password hash (mfa_oauth.hashers).
    "CLIENT_SECRET_HASHER": "hmac_sha256_generated",
    "OIDC_SERVER_CLASS": "mfa_oauth.oauth.server.MFAServer",
    # DOT's server in both modes (with OIDC_ENABLED off DOT would otherwise run oauthlib's own, with
    # the password grant and the implicit flow; system check mfa_oauth.E002).
    "OAUTH2_SERVER_CLASS": "mfa_oauth.oauth.server.MFAServer",
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "SCOPES": {
        "openid": _("Sign you in"),
        "profile": _("See your user name"),
        "email": _("See your email address"),
        # OIDC Core §5.4: the standard claims of these scopes (mfa_oauth.oauth.claims, docs/claims.md).
        "phone": _("See your verified phone number"),
        "address": _("See your postal address"),
        "balance": _("Read your account balance"),
        "transfer": _("Move money for you"),
    },
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if not env_bool("ALLOW_HTTP_REDIRECTS", True) else ["https", "http"],
    "ALLOW_URI_WILDCARDS": False,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
}
# DOT's swappable models, named explicitly so migrations that point at them resolve.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
if os.environ.get("OIDC_ISS_ENDPOINT"):
    OAUTH2_PROVIDER["OIDC_ISS_ENDPOINT"] = os.environ["OIDC_ISS_ENDPOINT"]

# --- django-otp and mfa_oauth ----------------------------------------------------------------
OTP_TOTP_ISSUER = "mfa_oauth IdP"
MFA_OAUTH = {
    "DEFAULT_MFA_MODE": os.environ.get("MFA_DEFAULT_MODE", "when_enrolled"),
    "MAX_FAILED_ATTEMPTS": int(os.environ.get("MFA_MAX_FAILED_ATTEMPTS", "10")),
    "TOTP_ISSUER": "mfa_oauth IdP",
    # WebAuthn: browsers refuse IP addresses as RP ID, so the embedded default serves passkeys at
    # http://localhost:8000 (not 127.0.0.1). Production: WEBAUTHN_RP_ID=id.example.com and
    # WEBAUTHN_ORIGINS=https://id.example.com (comma-separated for several).
    "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID", "localhost"),
    "WEBAUTHN_RP_NAME": os.environ.get("WEBAUTHN_RP_NAME", "mfa_oauth IdP"),
    "WEBAUTHN_ORIGINS": [o for o in os.environ.get("WEBAUTHN_ORIGINS", "http://localhost:8000").split(",") if o],
    # Development on other ports: accept the request's own origin (never in production).
    "WEBAUTHN_TRUST_REQUEST_ORIGIN": env_bool("WEBAUTHN_TRUST_REQUEST_ORIGIN", False),
    "HOTP_MAX_TOLERANCE": int(os.environ.get("MFA_HOTP_MAX_TOLERANCE", "10")),
    # WebAuthn attestation trust (docs/security.md): the roots of the security-key vendors whose keys
    # count as hardware, and optionally a FIDO MDS3 BLOB downloaded by the operator, with its root.
    "WEBAUTHN_ATTESTATION_ROOTS": os.environ.get("WEBAUTHN_ATTESTATION_ROOTS", ""),
    "WEBAUTHN_MDS_BLOB": os.environ.get("WEBAUTHN_MDS_BLOB", ""),
    "WEBAUTHN_MDS_ROOTS": os.environ.get("WEBAUTHN_MDS_ROOTS", ""),
    # Keys that encrypt TOTP/HOTP seeds in the database (MFA_SEED_KEYS, newest first; a generated
    # development key in var/ otherwise). Rotation: docs/security.md, "OTP seeds at rest".
    "SEED_KEYS": load_seed_keys(VAR_DIR),
    # id_token keys for ES256, PS256 and EdDSA beside DOT's RS256 (FAPI 2.0 §5.4.1; OIDC_ID_TOKEN_KEY_FILES in
    # production, generated development keys in var/ otherwise). docs/fapi.md, "id_token signing".
    "ID_TOKEN_SIGNING_KEYS": load_id_token_keys(VAR_DIR),
}

# --- Celery: eager without a broker, the real broker when CELERY_BROKER_URL is set ------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = "CELERY_BROKER_URL" not in os.environ
CELERY_TASK_EAGER_PROPAGATES = False
# SMS delivery (Celery's Optimizing guide, Redis broker caveats): one reserved task per worker
# process; a message unacknowledged for 15 min (longer than a code lives plus the task's time limit) is redelivered.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 900}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": 900}
CELERY_BEAT_SCHEDULE = {
    "mfa-oauth-sms-sweep": {"task": "mfa_oauth.sms.sweep", "schedule": 30.0},
    # Expired PAR request_uri rows (mfa_oauth.par.sweep; idp_site/tasks.py); refused anyway, deleted here.
    "mfa-oauth-par-sweep": {"task": "idp_site.clear_pushed_authorizations", "schedule": 600.0},
}

# --- SMS codes (mfa_oauth.sms): console by default, Twilio when configured ---------------------
MFA_OAUTH.update(
    {
        "SMS_ENABLED": env_bool("MFA_SMS_ENABLED", True),
        "SMS_BACKEND": os.environ.get("MFA_SMS_BACKEND", "console"),
        "SMS_SITE_NAME": os.environ.get("MFA_SMS_SITE_NAME", "mfa_oauth IdP"),
        # The reference site texts only the countries it serves (ISO codes, comma-separated).
        "SMS_ALLOWED_COUNTRIES": tuple(
            c.strip().upper() for c in os.environ.get("MFA_SMS_ALLOWED_COUNTRIES", "GB,US").split(",") if c.strip()
        ),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER", ""),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        "TWILIO_API_BASE_URL": os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com"),
        "SMS_PUBLIC_BASE_URL": os.environ.get("MFA_SMS_PUBLIC_BASE_URL", ""),
    }
)
# Limits against SMS pumping (OWASP ASVS 2.4.1), per deployment; unset keeps mfa_oauth's safe defaults.
for _env, _key in (
    ("MFA_SMS_COOLDOWN", "SMS_COOLDOWN"),
    ("MFA_SMS_MAX_PER_NUMBER_PER_HOUR", "SMS_MAX_PER_NUMBER_PER_HOUR"),
    ("MFA_SMS_MAX_PER_USER_PER_DAY", "SMS_MAX_PER_USER_PER_DAY"),
    ("MFA_SMS_MAX_PER_IP_PER_HOUR", "SMS_MAX_PER_IP_PER_HOUR"),
    ("MFA_SMS_MAX_GLOBAL_PER_MINUTE", "SMS_MAX_GLOBAL_PER_MINUTE"),
):
    if os.environ.get(_env, "").strip():
        from .production import env_int  # one clear line for a bad value, not a traceback

        MFA_OAUTH[_key] = env_int(_env, 0, minimum=0)

# --- The demo relying party at /demo/ -------------------------------------------------------
DEMO_CLIENT_ID = os.environ.get("DEMO_CLIENT_ID", "demo-rp")
DEMO_CLIENT_SECRET = os.environ.get("DEMO_CLIENT_SECRET", "demo-rp-secret-for-local-use-only")
# Where the demo reaches the IdP's back channel (token, JWKS); empty: this site's own address.
DEMO_IDP_BASE_URL = os.environ.get("DEMO_IDP_BASE_URL", "")
# The sample API's own client: seed_demo registers it as a resource server for the demo client, so
# it may introspect that client's tokens (RESOURCE_SERVER_INTROSPECTION_CLIENT_ID/_SECRET below).
DEMO_API_CLIENT_ID = os.environ.get("DEMO_API_CLIENT_ID", "demo-api")
DEMO_API_CLIENT_SECRET = os.environ.get("DEMO_API_CLIENT_SECRET", "demo-api-secret-for-local-use-only")
# The second demo relying party at /demo/finance/ (a third-party finance app on FAPI 2.0, docs/fapi.md):
# its client id, and the file where seed_demo keeps its private key (the var folder, outside git).
DEMO_FINANCE_CLIENT_ID = os.environ.get("DEMO_FINANCE_CLIENT_ID", "demo-finance-app")
DEMO_FINANCE_STATE_FILE = Path(os.environ.get("DEMO_FINANCE_STATE_FILE", VAR_DIR / "demo-finance-app.json"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"mfa_oauth": {"handlers": ["console"], "level": os.environ.get("MFA_LOG_LEVEL", "INFO")}},
}

# --- step-up, device flow, remembered browsers, session lifetime ----------------------------------
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
MFA_OAUTH.update(
    {
        "SESSION_IDLE_TIMEOUT": int(os.environ.get("MFA_SESSION_IDLE_TIMEOUT", "3600")),
        "SESSION_ABSOLUTE_TIMEOUT": int(os.environ.get("MFA_SESSION_ABSOLUTE_TIMEOUT", str(24 * 3600))),
        # Plain-http development (make run) may turn the Secure flag off; browsers keep Secure cookies
        # for http://localhost and http://127.0.0.1 anyway.
        "TRUSTED_BROWSER_COOKIE_SECURE": env_bool("MFA_TRUSTED_BROWSER_COOKIE_SECURE", True),
        # The sample API (/api/) validates tokens locally unless these name an introspection endpoint
        # and a client allowed to introspect the demo client's tokens (seed_demo's DEMO_API_CLIENT_ID).
        **{
            key: os.environ.get(key, "")
            for key in (
                "RESOURCE_SERVER_INTROSPECTION_URL",
                "RESOURCE_SERVER_INTROSPECTION_CLIENT_ID",
                "RESOURCE_SERVER_INTROSPECTION_CLIENT_SECRET",
            )
        },
    }
)
# --- enrollment and administration (mfa_oauth.account / audit / notifications / operators) --------
# django-otp's device admins never show a key or QR code again after creation (RFC 6238 §5.1).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
MFA_OAUTH["NOTIFICATIONS"] = {"SITE_NAME": os.environ.get("MFA_SITE_NAME", "mfa_oauth reference IdP")}
# --- Operations: /healthz, JSON logs with the audit events, preflight, local TLS (idp_site/ops) ---
INSTALLED_APPS += ["idp_site.ops"]

# --- Password guessing (mfa_oauth.throttle; docs/security.md): every authenticate() call is throttled
# per account and per client IP, counted in the cache above (Redis in production, shared by all nodes).
AUTHENTICATION_BACKENDS = ["mfa_oauth.throttle.backends.ThrottledModelBackend"]
# Behind reverse proxies: their addresses or networks (comma-separated), so X-Forwarded-For is read.
MFA_OAUTH["TRUSTED_PROXIES"] = [p.strip() for p in os.environ.get("MFA_TRUSTED_PROXIES", "").split(",") if p.strip()]
# The key of pairwise subject identifiers (docs/claims.md): set once, never changed; empty: derived from
# SECRET_KEY (then rotating SECRET_KEY changes every pairwise sub).
MFA_OAUTH["PAIRWISE_SUBJECT_KEY"] = os.environ.get("MFA_PAIRWISE_SUBJECT_KEY", "")

# --- Production (IDP_PRODUCTION=1): PostgreSQL, Redis cache and broker, HTTPS-only cookies, HSTS,
# whitenoise, JSON logs; every value from the environment (.env.example), checked at start-up.
if env_bool("IDP_PRODUCTION", False):
    from .production import configure

    configure(globals())
