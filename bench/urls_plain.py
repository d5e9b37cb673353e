"""The reference site's URLs with ``/o/`` served by stock django-oauth-toolkit (the bench's baseline).

Every other URL (login, logout, the MFA pages, admin, health) is the site's own, so the two sites
differ only in who answers the OAuth endpoints.
"""

from django.urls import include, path
from django.urls.resolvers import URLResolver

from idp_site.urls import urlpatterns as site_urlpatterns


def _is_oauth(pattern) -> bool:
    return isinstance(pattern, URLResolver) and str(pattern.pattern) == "o/"


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    *(pattern for pattern in site_urlpatterns if not _is_oauth(pattern)),
]
