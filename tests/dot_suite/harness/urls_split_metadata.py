"""RFC 8414 metadata mounted at the root and the endpoints under ``/o/`` (DOT's documented split)."""

from django.urls import include, path
from oauth2_provider import urls as dot_urls

from .urls import oauth2_provider_urls

urlpatterns = [
    path("o/", oauth2_provider_urls()),
    # Outside the namespace: reverse("oauth2_provider:...") keeps naming the /o/ routes.
    path("", include(list(dot_urls.metadata_urlpatterns))),
]
