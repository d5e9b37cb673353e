"""django-two-factor-auth 1.18 + django-oauth-toolkit 3.4.1, configured as their documentation says.

two_factor: django_otp + its TOTP/static plugins, ``OTPMiddleware`` after the authentication
middleware, ``LOGIN_URL = "two_factor:login"`` (its login wizard: password, then the token step).
DOT: OIDC on (RS256 key), PKCE required, the authorize view behind two_factor's ``OTPRequiredMixin``
(``bench/peers/two_factor/urls.py``), so a code is issued only to an OTP-verified session.
"""

import os

from bench.peers.base_settings import *  # noqa: F403
from bench.peers.base_settings import BASE_APPS, BASE_MIDDLEWARE

INSTALLED_APPS = [
    *BASE_APPS,
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "oauth2_provider",
]
MIDDLEWARE = [*BASE_MIDDLEWARE]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
ROOT_URLCONF = "bench.peers.two_factor.urls"
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "/"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ["PEER_RSA_PRIVATE_KEY"],
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "OpenID Connect", "profile": "Profile", "email": "Email"},
}
