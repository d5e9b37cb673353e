from django.urls import include, path

from bench.peers.healthz import healthz

urlpatterns = [
    path("healthz", healthz),
    path("accounts/", include("allauth.urls")),
    path("", include("allauth.idp.urls")),
]
