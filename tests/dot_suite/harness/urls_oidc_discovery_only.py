"""Only OIDC discovery, at the root, outside any namespace: the endpoints it names cannot be
reversed (DOT must fail fast rather than publish nulls)."""

from django.urls import re_path
from oauth2_provider import views

urlpatterns = [
    re_path(r"^\.well-known/openid-configuration/?$", views.ConnectDiscoveryInfoView.as_view()),
]
