from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from . import views
from .ops.views import healthz

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mfa/", include("mfa_oauth.urls")),
    path("o/", include("mfa_oauth.oauth.urls")),
    # RFC 8414 §3: the metadata at the path-inserted well-known URLs of the issuer https://host/o.
    path("", include("mfa_oauth.oauth.well_known")),
    path("demo/", include("idp_site.demo.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the switcher in base.html
    path("api/", include("idp_site.api.urls")),
    path("mfa/trust/", include("mfa_oauth.trust.urls")),
    path("account/", include("mfa_oauth.account.urls")),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the admin's).
    path("favicon.ico", views.favicon),
    re_path(r"^healthz/?$", healthz, name="healthz"),  # load balancers: database, cache, broker
]
