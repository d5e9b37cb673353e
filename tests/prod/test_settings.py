"""Production settings from the environment, and the one-line errors for bad input.

Each case starts a fresh interpreter with an explicit environment, as a deployment would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from idp_site.production import ConfigError, validate

from .envs import DUMP_SETTINGS, PYTHON, ROOT, base_env, manage, production_env, rsa_key_pem, run_python

ONE_YEAR = 365 * 24 * 3600


def load(env: dict[str, str]) -> dict:
    result = run_python(DUMP_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_without_any_environment(tmp_path):
    settings = load(base_env(tmp_path))
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DB_NAME"] == str(tmp_path / "idp.sqlite3")
    assert settings["CACHE"].endswith("LocMemCache")
    assert settings["EAGER"] is True and settings["BROKER"] == "memory://"
    assert settings["SESSION_COOKIE_NAME"] == "sessionid" and settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SCHEMES"] == ["https", "http"]
    # whitenoise serves the static files (WebAuthn's script) under `make run`, where DEBUG is off.
    assert settings["MIDDLEWARE"].count("whitenoise.middleware.WhiteNoiseMiddleware") == 1
    assert (tmp_path / "dev-oidc-key.pem").exists()


def test_embedded_default_generates_a_development_seed_key(tmp_path):
    # MFA_OAUTH["SEED_KEYS"] (mfa_oauth.seeds): generated once into the var folder, then reused.
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'idp_site.settings')\n"
        "from django.conf import settings; print(len(settings.MFA_OAUTH['SEED_KEYS']))"
    )
    assert run_python(code, base_env(tmp_path)).stdout.strip() == "1"
    key = (tmp_path / "dev-seed-key").read_text()
    assert len(key.strip()) >= 32
    assert run_python(code, base_env(tmp_path)).stdout.strip() == "1"
    assert (tmp_path / "dev-seed-key").read_text() == key


def test_production_settings(tmp_path):
    settings = load(production_env(tmp_path, SECURE_PROXY_SSL_HEADER="1", MFA_MAX_FAILED_ATTEMPTS="25"))
    assert settings["DEBUG"] is False
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert settings["DB_NAME"] == "idp_prod_settings"
    assert settings["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["SESSION_ENGINE"] == "idp_site.sessions.cached_db"
    assert settings["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert settings["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]
    assert settings["HSTS"] >= ONE_YEAR
    assert settings["SSL_REDIRECT"] is True
    assert settings["PROXY"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    middleware = settings["MIDDLEWARE"]
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == (
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
    )
    assert settings["STATIC_BACKEND"].startswith("whitenoise.")
    assert settings["EAGER"] is False and settings["BROKER"].startswith("redis://")
    assert settings["SCHEMES"] == ["https"]
    assert settings["TOKEN_STORAGE"] is True
    assert settings["FORMATTERS"] == ["json"]
    assert settings["MAX_FAILED"] == 25


def test_proxy_header_is_opt_in(tmp_path):
    assert load(production_env(tmp_path))["PROXY"] is None


def test_check_deploy_is_clean_including_dot_rfc9700_checks(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "oauth2_provider." not in result.stdout + result.stderr


def test_embedded_default_check_deploy_lists_what_production_fixes(tmp_path):
    # Sanity of the test above: the same check does flag the embedded default.
    result = manage("check", "--deploy", env=base_env(tmp_path))
    output = result.stdout + result.stderr
    assert "security.W004" in output  # no HSTS
    assert "oauth2_provider.W008" in output or "oauth2_provider.W006" in output


BAD_INPUT = [
    ({"DEBUG": "1"}, "DEBUG"),
    ({"DEBUG": "maybe"}, "DEBUG"),
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SECRET_KEY": "django-insecure-" + "a1b2c3" * 10}, "SECRET_KEY"),
    ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"DATABASE_URL": "sqlite:////tmp/idp.sqlite3"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgres://idp:s3cret-db-password@127.0.0.1:notaport/idp"}, "DATABASE_URL"),
    ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgres://idp:s3cret-db-password@127.0.0.1:5432/"}, "DATABASE_URL"),
    ({"CACHE_URL": None}, "CACHE_URL"),
    ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL"),
    ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL"),
    ({"CELERY_BROKER_URL": "http://127.0.0.1:6379/0"}, "CELERY_BROKER_URL"),
    ({"CELERY_BROKER_URL": "redis://:s3cret-db-password@127.0.0.1:port/0"}, "CELERY_BROKER_URL"),
    ({"OIDC_RSA_PRIVATE_KEY_FILE": None}, "OIDC_RSA_PRIVATE_KEY"),
    ({"OIDC_RSA_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "OIDC_RSA_PRIVATE_KEY_FILE"),
    ({"OIDC_RSA_PRIVATE_KEY_FILE": None, "OIDC_RSA_PRIVATE_KEY": "not a key"}, "OIDC_RSA_PRIVATE_KEY"),
    ({"ALLOW_HTTP_REDIRECTS": "1"}, "ALLOW_HTTP_REDIRECTS"),
    ({"SECURE_HSTS_SECONDS": "3600"}, "SECURE_HSTS_SECONDS"),
    ({"MFA_MAX_FAILED_ATTEMPTS": "1000"}, "MFA_MAX_FAILED_ATTEMPTS"),
    ({"OIDC_ISS_ENDPOINT": "http://idp.example.com/o"}, "OIDC_ISS_ENDPOINT"),
    ({"WEBAUTHN_RP_ID": None}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_RP_ID": "https://idp.example.com"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_RP_ID": "10.0.0.1"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_ORIGINS": None}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "http://idp.example.com"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "https://evil.example"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_TRUST_REQUEST_ORIGIN": "1"}, "WEBAUTHN_TRUST_REQUEST_ORIGIN"),
    ({"MFA_TRUSTED_BROWSER_COOKIE_SECURE": "0"}, "MFA_TRUSTED_BROWSER_COOKIE_SECURE"),
    ({"MFA_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, "MFA_TRUSTED_PROXIES"),
    ({"MFA_SEED_KEYS": None}, "MFA_SEED_KEYS"),
    ({"MFA_SEED_KEYS": "too-short"}, "MFA_SEED_KEYS"),
    ({"MFA_SEED_KEYS": ("k" * 40 + ",") * 2}, "MFA_SEED_KEYS"),
]


@pytest.mark.parametrize(("overrides", "name"), BAD_INPUT, ids=[f"{n}-{i}" for i, (_, n) in enumerate(BAD_INPUT)])
def test_bad_input_names_the_variable(tmp_path, monkeypatch, overrides, name):
    # In-process (fast) through the same validate() that settings.py calls first.
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in production_env(tmp_path, **overrides).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as error:
        validate()
    message = str(error.value)
    assert error.value.name == name and message.startswith(f"idp_site configuration error: {name}: ")
    assert "\n" not in message and "s3cret-db-password" not in message


@pytest.mark.parametrize(
    "overrides",
    [
        {"DATABASE_URL": "postgres://idp:s3cret-db-password@127.0.0.1:notaport/idp"},
        {"DEBUG": "1"},
        {"CELERY_BROKER_URL": None},
    ],
    ids=["db", "debug", "broker"],
)
def test_bad_input_stops_manage_py_with_one_line(tmp_path, overrides):
    result = manage("check", env=production_env(tmp_path, **overrides))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("idp_site configuration error: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "s3cret-db-password" not in result.stderr


def test_short_rsa_key_is_refused(tmp_path):
    result = manage(
        "check", env=production_env(tmp_path, OIDC_RSA_PRIVATE_KEY_FILE=None, OIDC_RSA_PRIVATE_KEY=_short_key())
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "idp_site configuration error: OIDC_RSA_PRIVATE_KEY: RSA key of 1024 bits is too short (at least 2048)"
    )


def test_key_from_environment_with_escaped_newlines(tmp_path):
    pem = rsa_key_pem().replace("\n", "\\n")
    result = manage("check", env=production_env(tmp_path, OIDC_RSA_PRIVATE_KEY_FILE=None, OIDC_RSA_PRIVATE_KEY=pem))
    assert result.returncode == 0, result.stderr


def test_gunicorn_and_celery_stop_with_the_same_line(tmp_path):
    env = production_env(tmp_path, DATABASE_URL=None)
    bin_dir = Path(PYTHON).parent
    for command in (
        [str(bin_dir / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "idp_site.wsgi:application"],
        [str(bin_dir / "celery"), "-A", "idp_site", "worker", "--pool", "solo"],
    ):
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr.strip().splitlines()[-1].startswith("idp_site configuration error: DATABASE_URL: not set")
        assert "Traceback" not in result.stderr


def _short_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
