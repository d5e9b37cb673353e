"""The metadata documents at the host's root, where RFC 8414 clients look for them.

RFC 8414 §3: "the well-known URI string used is inserted in the authorization server's issuer
identifier between the host component and the path component, if any". The issuer here is the
URL DOT's endpoints are mounted under (``https://host/o``), so RFC 8414 clients ask
``https://host/.well-known/oauth-authorization-server/o``; OpenID Connect clients ask
``https://host/o/.well-known/openid-configuration`` (OIDC Discovery §4, served by
:mod:`mfa_oauth.oauth.urls`), and some apply RFC 8414 §5's path insertion to it
(``/.well-known/openid-configuration/o``). Each answers only for the path of this provider's
issuer (``OIDC_ISS_ENDPOINT`` when set); any other path is a 404, never a document whose
``issuer`` differs from the URL it was fetched from (RFC 8414 §3.3).

Include at the site's root: ``path("", include("mfa_oauth.oauth.well_known"))``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import re_path
from oauth2_provider.settings import oauth2_settings

from .views import MFADiscoveryView, MFAServerMetadataView


def issuer_path(request: HttpRequest) -> str:
    return urlsplit(oauth2_settings.oidc_issuer(request)).path.rstrip("/")


class RootServerMetadataView(MFAServerMetadataView):
    def get(self, request, *args, issuer_path_component: str = "", **kwargs) -> HttpResponse:
        if (issuer_path_component or "").rstrip("/") != issuer_path(request):
            raise Http404("No authorization server has this issuer")
        response = super().get(request, *args, **kwargs)
        return response


class RootDiscoveryView(MFADiscoveryView):
    def get(self, request, *args, issuer_path_component: str = "", **kwargs) -> HttpResponse:
        if (issuer_path_component or "").rstrip("/") != issuer_path(request):
            raise Http404("No OpenID Provider has this issuer")
        return super().get(request, *args, **kwargs)


urlpatterns = [
    re_path(
        r"^\.well-known/oauth-authorization-server(?P<issuer_path_component>/.*)?$",
        RootServerMetadataView.as_view(),
        name="mfa-oauth-server-metadata",
    ),
    re_path(
        r"^\.well-known/openid-configuration(?P<issuer_path_component>/.*)?$",
        RootDiscoveryView.as_view(),
        name="mfa-oidc-discovery",
    ),
]
