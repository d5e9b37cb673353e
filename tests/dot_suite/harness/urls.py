"""The harness's URLconf: DOT's URLs under ``/o/`` and the admin, as a DOT site mounts them.

In the ``mfa_oauth`` run the ``authorize`` route is mfa_oauth's ``MFAAuthorizationView`` (the
only URL swapped: the rest stays DOT's, so a difference can only come from the validator, the
server class or the authorization view)."""

from django.contrib import admin
from django.urls import include, path
from oauth2_provider import urls as dot_urls

from .flavour import OURS


def swap_authorize(patterns: list) -> list:
    if not OURS:
        return list(patterns)
    from mfa_oauth.oauth.views import MFAAuthorizationView

    return [
        path("authorize/", MFAAuthorizationView.as_view(), name="authorize")
        if getattr(pattern, "name", None) == "authorize"
        else pattern
        for pattern in patterns
    ]


def oauth2_provider_urls(patterns: list | None = None):
    """DOT's URL list (all of it by default) in the ``oauth2_provider`` namespace."""
    return include((swap_authorize(dot_urls.urlpatterns if patterns is None else patterns), "oauth2_provider"))


urlpatterns = [
    path("o/", oauth2_provider_urls()),
    path("admin/", admin.site.urls),
]
if OURS:
    # The second-factor and enrollment steps the gate may send a browser to (never reached here:
    # the harness's users have no second factor enrolled, see docs/dot-suite.md).
    urlpatterns.append(path("mfa/", include("mfa_oauth.urls")))
    # The login view a project includes per the README's quick start (mfa_oauth.E064 otherwise).
    urlpatterns.append(path("accounts/", include("mfa_oauth.auth_urls")))
