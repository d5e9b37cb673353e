"""Include under any prefix: ``path("mfa/", include("mfa_oauth.urls"))``."""

from django.urls import include, path

app_name = "mfa_oauth"

urlpatterns = [
    path("", include("mfa_oauth.verify.urls")),
    path("", include("mfa_oauth.totp.urls")),
    path("", include("mfa_oauth.webauthn.urls")),
    path("", include("mfa_oauth.sms.urls")),
]
