"""DOT's URLs with the authorization endpoint and discovery replaced by ours.

Every endpoint that looks parameters up in the database is wrapped by ``refuse_nul`` (PostgreSQL
cannot compare a text column with a string containing NUL; see :mod:`mfa_oauth.oauth.nul`).

Include with ``path("o/", include("mfa_oauth.oauth.urls"))``; the names stay in DOT's
``oauth2_provider`` namespace so everything that reverses them keeps working. DOT's application
management views are left out: the Django admin manages clients.
"""

from django.apps import apps
from django.urls import path, re_path

from ..dpop.views import DPoPUserInfoView
from ..par.views import PushedAuthorizationView
from .challenges import MFARevokeTokenView
from .introspection import MFAIntrospectTokenView
from .jwks import MFAJwksInfoView
from .logout import MFARPInitiatedLogoutView
from .nul import refuse_nul
from .token import MFATokenView
from .views import MFAAuthorizationView, MFADiscoveryView, MFAServerMetadataView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", refuse_nul(MFAAuthorizationView.as_view(), browser=True), name="authorize"),
    path("token/", refuse_nul(MFATokenView.as_view()), name="token"),
    # RFC 9126 pushed authorization requests (mfa_oauth.par).
    path("par/", refuse_nul(PushedAuthorizationView.as_view()), name="par"),
    path("revoke_token/", refuse_nul(MFARevokeTokenView.as_view()), name="revoke-token"),
    path("introspect/", refuse_nul(MFAIntrospectTokenView.as_view()), name="introspect"),
    re_path(r"^\.well-known/openid-configuration/?$", MFADiscoveryView.as_view(), name="oidc-connect-discovery-info"),
    # RFC 8414 metadata under the same prefix, so the RFC 9207 ``iss`` of authorization responses equals
    # the OIDC issuer (DOT derives both from these URLs).
    path(
        ".well-known/oauth-authorization-server",
        MFAServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    # DOT's JwksInfoView with every id_token signing key (RS256, PS256, ES256, EdDSA; mfa_oauth.oauth.signing).
    path(".well-known/jwks.json", MFAJwksInfoView.as_view(), name="jwks-info"),
    # DOT's UserInfoView behind the DPoP proof check (RFC 9449 §7, mfa_oauth.dpop).
    path("userinfo/", refuse_nul(DPoPUserInfoView.as_view()), name="user-info"),
    path("logout/", refuse_nul(MFARPInitiatedLogoutView.as_view(), browser=True), name="rp-initiated-logout"),
]

if apps.is_installed("mfa_oauth.device"):
    # Imported only when installed: its models would otherwise land in app mfa_oauth (mfa_oauth/urls.py).
    from ..device import views as device_views

    urlpatterns += [
        # RFC 8628 device authorization grant; the user-facing steps pass the MFA gate (mfa_oauth.device).
        path(
            "device-authorization/",
            refuse_nul(device_views.DeviceAuthorizationView.as_view()),
            name="device-authorization",
        ),
        path("device/", refuse_nul(device_views.DeviceUserCodeView.as_view(), browser=True), name="device"),
        path(
            "device-confirm/<slug:client_id>/<slug:user_code>",
            refuse_nul(device_views.DeviceConfirmView.as_view(), browser=True),
            name="device-confirm",
        ),
        path(
            "device-grant-status/<slug:client_id>/<slug:user_code>",
            refuse_nul(device_views.DeviceGrantStatusView.as_view(), browser=True),
            name="device-grant-status",
        ),
    ]
