"""Test settings: the site's settings with fast password hashing and an in-memory database."""

import os
import secrets

os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
# The run's id (tests/services.py): the test database on PostgreSQL is this run's own, so two suites
# on one server do not drop each other's database.
RUN_ID = os.environ.setdefault("MFA_TEST_RUN_ID", f"{os.getpid()}{secrets.token_hex(2)}")

from idp_site.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "mfa_oauth.hashers.GeneratedSecretHasher",  # the site's CLIENT_SECRET_HASHER
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_{DATABASES['default']['NAME']}_{RUN_ID}"  # noqa: F405

# tests/stepup: a test-only phishing-resistant factor (until the WebAuthn branch lands).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.stepup.keyapp.apps.KeyAppConfig"]  # noqa: F405

# seed_demo writes the finance app's private key (idp_site.demo.finance): never into the developer's var/.
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

DEMO_FINANCE_STATE_FILE = Path(tempfile.gettempdir()) / f"mfa-oauth-tests-{RUN_ID}" / "demo-finance-app.json"

# id_token keys of this run for ES256, PS256 and EdDSA (mfa_oauth.oauth.signing), generated in memory: the
# tests never sign with the developer's var/ keys, and no private key is ever written by them.
from idp_site.keys import ID_TOKEN_ALGORITHMS, generate_pem  # noqa: E402

MFA_OAUTH = {  # noqa: F405
    **MFA_OAUTH,  # noqa: F405
    "ID_TOKEN_SIGNING_KEYS": [
        {"alg": alg, "kid": f"test-{alg.lower()}", "key": generate_pem(alg).decode()} for alg in ID_TOKEN_ALGORITHMS
    ],
}
