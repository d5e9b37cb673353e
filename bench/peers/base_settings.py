"""What both peer sites share with the site under test (bench/peers/README.md): the same Argon2id
parameters, SQLite in WAL mode with BEGIN IMMEDIATE, database sessions, a per-process memory cache,
the bench's SQL/CPU header middleware, and the TLS-proxy transport (X-Forwarded-Proto from loopback).
Imported by ``bench.peers.<peer>.settings`` only; runs in the peer's own venv (no mfa_oauth there).
"""

import os
from pathlib import Path

from django.contrib.auth.hashers import Argon2PasswordHasher

VAR_DIR = Path(os.environ["PEER_VAR_DIR"])
SECRET_KEY = os.environ["PEER_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


class OWASPArgon2PasswordHasher(Argon2PasswordHasher):
    """The parameters of mfa_oauth.hashers.OWASPArgon2PasswordHasher (m=19 MiB, t=2, p=1)."""

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1


PASSWORD_HASHERS = ["bench.peers.base_settings.OWASPArgon2PasswordHasher"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "peer.sqlite3",
        # The reference site's own database settings (idp_site/settings.py), persistent connections
        # included: the comparison measures the libraries, not how often a worker reopens the file.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Behind the TLS proxy, as the site under test (bench/harness.py "Transport").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
BASE_MIDDLEWARE = [
    "bench.sqlcount.SQLCountMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
BASE_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
STATIC_URL = "/static/"
LOGGING = {"version": 1, "disable_existing_loggers": False}
