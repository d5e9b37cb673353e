"""DOT's URLs with the authorization endpoint and discovery replaced by ours.

Include with ``path("o/", include("mfa_oauth.oauth.urls"))``; the names stay in DOT's
``oauth2_provider`` namespace so everything that reverses them keeps working. DOT's application
management views are left out: the Django admin manages clients.
"""

from django.urls import path, re_path
from oauth2_provider import views as dot_views

from ..device import views as device_views
from .introspection import MFAIntrospectTokenView
from .token import MFATokenView
from .views import MFAAuthorizationView, MFADiscoveryView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", MFAAuthorizationView.as_view(), name="authorize"),
    path("token/", MFATokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", MFAIntrospectTokenView.as_view(), name="introspect"),
    re_path(r"^\.well-known/openid-configuration/?$", MFADiscoveryView.as_view(), name="oidc-connect-discovery-info"),
    # RFC 8414 metadata under the same prefix, so the RFC 9207 ``iss`` of authorization responses equals
    # the OIDC issuer (DOT derives both from these URLs).
    path(
        ".well-known/oauth-authorization-server",
        dot_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
    path("logout/", dot_views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
    # RFC 8628 device authorization grant; the user-facing steps pass the MFA gate (mfa_oauth.device).
    path("device-authorization/", device_views.DeviceAuthorizationView.as_view(), name="device-authorization"),
    path("device/", device_views.DeviceUserCodeView.as_view(), name="device"),
    path(
        "device-confirm/<slug:client_id>/<slug:user_code>",
        device_views.DeviceConfirmView.as_view(),
        name="device-confirm",
    ),
    path(
        "device-grant-status/<slug:client_id>/<slug:user_code>",
        device_views.DeviceGrantStatusView.as_view(),
        name="device-grant-status",
    ),
]
