"""Include under any prefix: ``path("mfa/trust/", include("mfa_oauth.trust.urls"))``."""

from django.urls import path

from . import views

app_name = "mfa_oauth_trust"

urlpatterns = [
    path("", views.manage, name="manage"),
    path("forget/", views.forget, name="forget"),
]
