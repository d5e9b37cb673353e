"""A site on plain django-oauth-toolkit, before mfa_oauth is installed (tests/package/test_upgrade_from_dot.py).

Same database file and signing key as the test settings get from ``IDP_VAR_DIR``, so the second phase
installs mfa_oauth on top of this very database."""

import os
from pathlib import Path

from idp_site.keys import load_signing_key

VAR_DIR = Path(os.environ["IDP_VAR_DIR"])
SECRET_KEY = "plain-dot-site"  # noqa: S105  (a throw-away test site)
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.package.urls_plain_dot"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "idp.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": load_signing_key(VAR_DIR),
    "SCOPES": {"openid": "Sign you in", "read": "Read"},
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
}
