from django.urls import include, path

# The package's login first; the reference site's URLs after it only for the names its base template
# reverses (the test settings keep idp_site's template override of mfa_oauth/base.html).
urlpatterns = [
    path("accounts/", include("mfa_oauth.auth_urls")),
    path("o/", include("mfa_oauth.oauth.urls")),
    path("mfa/", include("mfa_oauth.urls")),
    path("", include("idp_site.urls")),
]
