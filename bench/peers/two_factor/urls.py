from django.urls import include, path
from oauth2_provider import urls as oauth2_urls
from oauth2_provider import views as oauth2_views
from two_factor.urls import urlpatterns as tf_urls
from two_factor.views.mixins import OTPRequiredMixin

from bench.peers.healthz import healthz


class AuthorizationView(OTPRequiredMixin, oauth2_views.AuthorizationView):
    """DOT's authorize view for OTP-verified sessions only (two_factor: "the left-most base class")."""


urlpatterns = [
    path("healthz", healthz),
    path("", include(tf_urls)),
    path("o/authorize/", AuthorizationView.as_view(), name="authorize"),
    path("o/", include(oauth2_urls)),
]
