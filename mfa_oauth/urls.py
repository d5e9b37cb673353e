"""Include under any prefix: ``path("mfa/", include("mfa_oauth.urls"))``.

A factor's URLs are included only when its app is in INSTALLED_APPS: importing the views of an app
that is not installed would import its models, which would then land in app ``mfa_oauth`` without a
table (``makemigrations`` would want a migration inside site-packages, the first page a 500).
"""

from django.apps import apps
from django.urls import include, path

app_name = "mfa_oauth"

# The optional factor apps and their URL modules, in the order they are included.
OPTIONAL_FACTOR_URLS = {
    "mfa_oauth.webauthn": "mfa_oauth.webauthn.urls",
    "mfa_oauth.sms": "mfa_oauth.sms.urls",
}

urlpatterns = [
    path("", include("mfa_oauth.verify.urls")),
    path("", include("mfa_oauth.totp.urls")),
]
urlpatterns += [path("", include(urls)) for app, urls in OPTIONAL_FACTOR_URLS.items() if apps.is_installed(app)]
