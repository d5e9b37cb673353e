"""Production settings (``IDP_PRODUCTION=1``): everything from the environment, checked at start-up.

``idp_site.settings`` calls :func:`configure` last, with its own namespace, when the switch is on.
Every problem ends the process with ONE line naming the variable and what is wrong with it
(:class:`ConfigError` is a ``SystemExit``, so Python prints the message and no traceback), and no
message ever repeats a password or a key. ``.env.example`` documents each variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url

ONE_YEAR = 365 * 24 * 3600
POSTGRES_ENGINES = {"django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis"}
BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "sentinel"}
CACHE_SCHEMES = {"redis", "rediss", "unix"}
INSECURE_SECRET_PREFIXES = ("django-insecure", "dev-only", "change-me")
# Load balancers probe over plain HTTP; everything else is redirected to HTTPS.
REDIRECT_EXEMPT = [r"^healthz/?$"]


class ConfigError(SystemExit):
    """A configuration error at start-up, printed as one line (exit status 1)."""

    def __init__(self, name: str, problem: str):
        self.name = name
        super().__init__(f"idp_site configuration error: {name}: {problem}")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"expected 1/0, true/false, yes/no or on/off, got {raw.strip()[:20]!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {raw[:20]!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def required(name: str, example: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(name, f"not set (production needs it, e.g. {example})")
    return value


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _scheme(name: str, url: str, allowed: set[str], what: str) -> str:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in allowed:
        shown = f"{scheme}://" if scheme else "no scheme"
        raise ConfigError(name, f"{what} expected ({'/'.join(sorted(allowed))}://...), got {shown}")
    try:
        urlsplit(url).port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise ConfigError(name, f"malformed URL {redacted(url)!r}") from None
    return url


def secret_key() -> str:
    key = required("SECRET_KEY", 'the output of python -c "import secrets; print(secrets.token_urlsafe(50))"')
    if key.startswith(INSECURE_SECRET_PREFIXES) or len(key) < 50 or len(set(key)) < 5:
        raise ConfigError("SECRET_KEY", "too weak: use at least 50 random characters (secrets.token_urlsafe(50))")
    return key


def database() -> dict[str, Any]:
    url = required("DATABASE_URL", "postgres://idp:PASSWORD@127.0.0.1:5432/idp")
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 60, minimum=0))
    except Exception as error:  # dj-database-url raises ValueError/KeyError/UnknownSchemeError
        raise ConfigError("DATABASE_URL", f"cannot be parsed ({type(error).__name__}): {redacted(url)!r}") from None
    if config.get("ENGINE") not in POSTGRES_ENGINES:
        raise ConfigError("DATABASE_URL", f"PostgreSQL expected (postgres://...), got {redacted(url)!r}")
    if not config.get("NAME"):
        raise ConfigError("DATABASE_URL", f"no database name in {redacted(url)!r}")
    config["CONN_HEALTH_CHECKS"] = True
    # A dead database answers the health check within seconds instead of hanging a worker.
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1))
    return dict(config)  # dj-database-url's DBConfig TypedDict, as the plain dict DATABASES holds


def cache() -> dict[str, Any]:
    url = _scheme("CACHE_URL", required("CACHE_URL", "redis://127.0.0.1:6379/1"), CACHE_SCHEMES, "Redis")
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "idp"),
        # Rate limits and throttles must not hang a request when Redis is slow or gone.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }


def broker() -> str:
    return _scheme(
        "CELERY_BROKER_URL", required("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"), BROKER_SCHEMES, "Redis or AMQP"
    )


def proxy_ssl_header() -> tuple[str, str] | None:
    """Opt-in: trust ``X-Forwarded-Proto: https`` from the TLS-terminating proxy in front of the nodes.

    ``SECURE_PROXY_SSL_HEADER=1`` trusts X-Forwarded-Proto; a header name trusts that header instead.
    Only set it when the proxy always overwrites the header (Django's documented warning).
    """
    raw = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
    if not raw or raw.lower() in {"0", "false", "no", "off"}:
        return None
    header = "X-Forwarded-Proto" if raw.lower() in {"1", "true", "yes", "on"} else raw
    if not all(c.isalnum() or c == "-" for c in header):
        raise ConfigError("SECURE_PROXY_SSL_HEADER", f"expected 1 or a header name like X-Forwarded-Proto, got {raw!r}")
    return ("HTTP_" + header.upper().replace("-", "_"), "https")


def json_logging(level: str) -> dict[str, Any]:
    """Everything (Django, mfa_oauth's audit events, Celery, gunicorn) as one JSON object per line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "idp_site.ops.logs.JSONFormatter"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "mfa_oauth": {"level": os.environ.get("MFA_LOG_LEVEL", "INFO"), "propagate": True},
            "django.request": {"level": "WARNING", "propagate": True},
        },
    }


def allowed_hosts() -> list[str]:
    hosts = env_list("ALLOWED_HOSTS")
    if not hosts:
        raise ConfigError("ALLOWED_HOSTS", "not set (the host names this site answers to, e.g. idp.example.com)")
    return hosts


def hsts_seconds() -> int:
    return env_int("SECURE_HSTS_SECONDS", ONE_YEAR, minimum=ONE_YEAR)


def issuer() -> str:
    value = os.environ.get("OIDC_ISS_ENDPOINT", "").strip()
    if value and not value.startswith("https://"):
        raise ConfigError("OIDC_ISS_ENDPOINT", "must be an https:// URL (e.g. https://idp.example.com/o)")
    return value.rstrip("/")


def max_failed_attempts() -> int:
    value = env_int("MFA_MAX_FAILED_ATTEMPTS", 10, minimum=1)
    if value > 100:
        raise ConfigError("MFA_MAX_FAILED_ATTEMPTS", "at most 100 (NIST SP 800-63B-4 §3.2.2)")
    return value


def refuse_http_redirects() -> None:
    if env_bool("ALLOW_HTTP_REDIRECTS", False):
        raise ConfigError("ALLOW_HTTP_REDIRECTS", "plain-http redirect URIs are refused in production (RFC 9700 §2.1)")


def webauthn() -> tuple[str, list[str]]:
    """The relying-party id and origins passkeys are bound to: the public host, https only."""
    rp_id = required("WEBAUTHN_RP_ID", "id.example.com (the site's host name; passkeys are bound to it)").lower()
    if "://" in rp_id or ":" in rp_id or "/" in rp_id or not all(c.isalnum() or c in ".-" for c in rp_id):
        raise ConfigError("WEBAUTHN_RP_ID", f"a bare host name expected (no scheme or port), got {rp_id!r}")
    if all(c.isdigit() or c == "." for c in rp_id):
        raise ConfigError("WEBAUTHN_RP_ID", "browsers refuse an IP address as WebAuthn RP ID; use a host name")
    origins = env_list("WEBAUTHN_ORIGINS")
    if not origins:
        raise ConfigError("WEBAUTHN_ORIGINS", f"not set (the https origins of the site, e.g. https://{rp_id})")
    for origin in origins:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or parts.path not in ("", "/") or not host:
            raise ConfigError("WEBAUTHN_ORIGINS", f"https://host[:port] expected, got {origin!r}")
        if host != rp_id and not host.endswith("." + rp_id):
            raise ConfigError("WEBAUTHN_ORIGINS", f"{origin!r} is not on WEBAUTHN_RP_ID {rp_id!r} or a subdomain")
    if env_bool("WEBAUTHN_TRUST_REQUEST_ORIGIN", False):
        raise ConfigError("WEBAUTHN_TRUST_REQUEST_ORIGIN", "a development shortcut, refused in production")
    return rp_id, origins


def trusted_proxies() -> list[str]:
    """The reverse proxies whose X-Forwarded-For the client IP is read from (mfa_oauth.client_ip)."""
    import ipaddress

    entries = env_list("MFA_TRUSTED_PROXIES")
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError("MFA_TRUSTED_PROXIES", f"not an IP address or CIDR network: {entry[:50]!r}") from None
    return entries


def validate() -> None:
    """Check the environment before the base settings parse any of it (called first by settings.py)."""
    from .keys import load_seed_keys, load_signing_key

    if env_bool("DEBUG", False):
        raise ConfigError("DEBUG", "DEBUG=1 together with IDP_PRODUCTION=1 is refused (it would show tracebacks)")
    secret_key()
    allowed_hosts()
    database()
    cache()
    broker()
    hsts_seconds()
    issuer()
    max_failed_attempts()
    refuse_http_redirects()
    proxy_ssl_header()
    trusted_proxies()
    webauthn()
    if not env_bool("MFA_TRUSTED_BROWSER_COOKIE_SECURE", True):
        raise ConfigError("MFA_TRUSTED_BROWSER_COOKIE_SECURE", "the remembered-browser cookie is always Secure here")
    load_signing_key(Path(os.devnull))  # production never generates a key, so the path is unused
    load_seed_keys(Path(os.devnull))


def configure(ns: dict[str, Any]) -> None:
    """Turn the embedded default settings in ``ns`` into production settings, or exit with one line."""
    validate()
    ns["DEBUG"] = False
    ns["SECRET_KEY"] = secret_key()
    ns["ALLOWED_HOSTS"] = allowed_hosts()
    ns["CSRF_TRUSTED_ORIGINS"] = env_list("CSRF_TRUSTED_ORIGINS")

    # Shared state lives in PostgreSQL and Redis only, so any web node can serve any request.
    ns["DATABASES"] = {"default": database()}
    ns["CACHES"] = {"default": cache()}
    # Sessions written through to PostgreSQL (durable, any node) and read from Redis (no SQL per request).
    # Safe here because every node shares the one Redis; with per-process caches it would serve stale data.
    ns["SESSION_ENGINE"] = "idp_site.sessions.cached_db"  # Django's cached_db, lighter key rotation
    ns["CELERY_BROKER_URL"] = broker()
    ns["CELERY_RESULT_BACKEND"] = os.environ.get("CELERY_RESULT_BACKEND") or None
    ns["CELERY_TASK_ALWAYS_EAGER"] = False
    ns["CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP"] = True
    ns["CELERY_WORKER_HIJACK_ROOT_LOGGER"] = False  # keep the JSON log format in the worker too
    ns["CELERY_BEAT_SCHEDULE_FILENAME"] = str(ns["VAR_DIR"] / "celerybeat-schedule")

    # Transport and cookies (OWASP ASVS 3.3, 3.4.1): HTTPS only, __Host- cookies, HSTS >= 1 year.
    ns["SECURE_SSL_REDIRECT"] = env_bool("SECURE_SSL_REDIRECT", True)
    ns["SECURE_REDIRECT_EXEMPT"] = REDIRECT_EXEMPT
    ns["SECURE_PROXY_SSL_HEADER"] = proxy_ssl_header()
    ns["USE_X_FORWARDED_HOST"] = env_bool("USE_X_FORWARDED_HOST", False)
    ns["SECURE_HSTS_SECONDS"] = hsts_seconds()
    ns["SECURE_HSTS_INCLUDE_SUBDOMAINS"] = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    ns["SECURE_HSTS_PRELOAD"] = env_bool("SECURE_HSTS_PRELOAD", True)
    ns["SECURE_CONTENT_TYPE_NOSNIFF"] = True
    ns["SESSION_COOKIE_SECURE"] = True
    ns["CSRF_COOKIE_SECURE"] = True
    ns["SESSION_COOKIE_NAME"] = "__Host-idp_session"  # __Host-: Secure, Path=/, no Domain (RFC 6265bis)
    ns["CSRF_COOKIE_NAME"] = "__Host-idp_csrftoken"

    # Static files from the web nodes themselves (whitenoise), hashed names, compressed.
    middleware = list(ns["MIDDLEWARE"])
    if "whitenoise.middleware.WhiteNoiseMiddleware" not in middleware:
        security = middleware.index("django.middleware.security.SecurityMiddleware")
        middleware.insert(security + 1, "whitenoise.middleware.WhiteNoiseMiddleware")
    ns["MIDDLEWARE"] = middleware
    ns["WHITENOISE_USE_FINDERS"] = False  # only the collected, hashed files (collectstatic at deploy)
    ns["STORAGES"] = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    # django-oauth-toolkit: every RFC 9700 gate on, so a weak setting is an Error under --deploy.
    oauth = dict(ns["OAUTH2_PROVIDER"])
    oauth.update(
        {
            "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
            "ALLOW_URI_WILDCARDS": False,
            "PKCE_REQUIRED": True,
            "REFRESH_TOKEN_REUSE_PROTECTION": True,
            "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
            "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
            "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
            "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
            "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
            "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
            "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
            "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
            "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
            "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
        }
    )
    if issuer():
        oauth["OIDC_ISS_ENDPOINT"] = issuer()
    ns["OAUTH2_PROVIDER"] = oauth

    mfa = dict(ns["MFA_OAUTH"])
    mfa["MAX_FAILED_ATTEMPTS"] = max_failed_attempts()
    ns["MFA_OAUTH"] = mfa
    # django-otp's per-device back-off (seconds, doubling per failure) on top of the hard cap.
    ns["OTP_TOTP_THROTTLE_FACTOR"] = env_int("OTP_TOTP_THROTTLE_FACTOR", 1, minimum=0)
    if "WEBAUTHN_RP_ID" in mfa:  # the WebAuthn factor's settings (mfa_oauth.webauthn)
        mfa["WEBAUTHN_RP_ID"], mfa["WEBAUTHN_ORIGINS"] = webauthn()
        mfa["WEBAUTHN_TRUST_REQUEST_ORIGIN"] = False
    ns["OTP_HOTP_THROTTLE_FACTOR"] = env_int("OTP_HOTP_THROTTLE_FACTOR", 1, minimum=0)

    ns["LOGGING"] = json_logging(os.environ.get("LOG_LEVEL", "INFO").upper())
