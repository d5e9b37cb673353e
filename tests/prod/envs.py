"""Environments for starting the site as production would, in subprocesses."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@lru_cache(maxsize=4)
def rsa_key_pem(bits: int = 2048) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def base_env(var_dir: Path) -> dict[str, str]:
    """Only what a shell has, plus the var folder: nothing leaks in from the test process."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    env["IDP_VAR_DIR"] = str(var_dir)
    env["PYTHONPATH"] = str(ROOT)
    return env


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """A complete, valid production environment (services need not be running to load settings)."""
    key_file = var_dir / "oidc-key.pem"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(rsa_key_pem())
    env = base_env(var_dir) | {
        "IDP_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "idp.example.com",
        "DATABASE_URL": "postgres://idp:s3cret-db-password@127.0.0.1:5432/idp_prod_settings",
        "CACHE_URL": "redis://127.0.0.1:6379/7",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/7",
        "OIDC_RSA_PRIVATE_KEY_FILE": str(key_file),
        "MFA_SEED_KEYS": secrets.token_urlsafe(32),
        "WEBAUTHN_RP_ID": "idp.example.com",
        "WEBAUTHN_ORIGINS": "https://idp.example.com",
        # Text messages off: a production config with the console SMS gateway is a deploy warning.
        "MFA_SMS_ENABLED": "false",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


# Prints the settings a test asserts on, as JSON.
DUMP_SETTINGS = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "idp_site.settings")
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "DB_NAME": str(settings.DATABASES["default"]["NAME"]),
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "SESSION_ENGINE": settings.SESSION_ENGINE,
    "SESSION_COOKIE_NAME": settings.SESSION_COOKIE_NAME,
    "CSRF_COOKIE_NAME": settings.CSRF_COOKIE_NAME,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "HSTS": settings.SECURE_HSTS_SECONDS,
    "SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "PROXY": settings.SECURE_PROXY_SSL_HEADER,
    "MIDDLEWARE": settings.MIDDLEWARE,
    "STATIC_BACKEND": settings.STORAGES["staticfiles"]["BACKEND"],
    "EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "BROKER": settings.CELERY_BROKER_URL,
    "SCHEMES": settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"],
    "TOKEN_STORAGE": settings.OAUTH2_PROVIDER.get("COMPLIANT_BCP_RFC9700_TOKEN_STORAGE", False),
    "FORMATTERS": sorted(settings.LOGGING.get("formatters", {})),
    "MAX_FAILED": settings.MFA_OAUTH["MAX_FAILED_ATTEMPTS"],
}))
"""
