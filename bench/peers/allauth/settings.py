"""django-allauth: ``allauth.account`` + ``allauth.mfa`` (TOTP) + ``allauth.idp.oidc``, as its docs say.

The only change from the documented defaults: the per-IP rate limits of the login (30/min per IP) and
of failed logins (10/min per IP) are raised, because the bench's load generator is one IP doing
hundreds of logins a minute; the per-account limit on failed logins (5 per 5 min) stays.

allauth keeps authorization codes, used TOTP codes and rate-limit counters in Django's cache, which
therefore has to be shared by the gunicorn workers (its docs: not a per-process memory cache). With
SQLite and no other service that is Django's file-based cache, in the peer's folder (a database cache
would add some 90 statements a flow for rate-limit counters; Redis would be a service the other sites
do not get).
"""

import os

from bench.peers.base_settings import *  # noqa: F403
from bench.peers.base_settings import BASE_APPS, BASE_MIDDLEWARE

INSTALLED_APPS = [
    *BASE_APPS,
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.idp.oidc",
]
MIDDLEWARE = [*BASE_MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
ROOT_URLCONF = "bench.peers.allauth.urls"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_EMAIL_VERIFICATION = "none"
MFA_SUPPORTED_TYPES = ["totp"]
IDP_OIDC_PRIVATE_KEY = os.environ["PEER_RSA_PRIVATE_KEY"]
ACCOUNT_RATE_LIMITS = {"login": "100000/m/ip", "login_failed": "100000/m/ip,5/300s/key"}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),  # noqa: F405
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},  # no culling mid-run (the default 300 would cull constantly)
    }
}
