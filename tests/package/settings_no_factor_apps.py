"""The test settings without the optional factor apps, with a URLconf that includes the SMS URLs
anyway (tests/package/test_adoption_checks.py: check mfa_oauth.E060)."""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [
    a
    for a in INSTALLED_APPS
    if a not in ("mfa_oauth.sms", "mfa_oauth.webauthn", "mfa_oauth.device", "mfa_oauth.trust", "mfa_oauth.account")
    and not a.startswith(("idp_site.api", "tests.stepup"))
]
ROOT_URLCONF = "tests.package.urls_sms_without_app"
DATABASES = {**DATABASES, "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
