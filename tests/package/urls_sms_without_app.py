from django.urls import include, path

urlpatterns = [
    path("o/", include("mfa_oauth.oauth.urls")),
    path("mfa/", include("mfa_oauth.urls")),
    path("accounts/", include("mfa_oauth.auth_urls")),
    path("sms/", include("mfa_oauth.sms.urls")),  # mfa_oauth.sms is not installed: check mfa_oauth.E060
]
