"""Test settings: the site's settings with fast password hashing and an in-memory database."""

import os

os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

from idp_site.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "mfa_oauth.hashers.GeneratedSecretHasher",  # the site's CLIENT_SECRET_HASHER
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# tests/stepup: a test-only phishing-resistant factor (until the WebAuthn branch lands).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.stepup.keyapp.apps.KeyAppConfig"]  # noqa: F405
