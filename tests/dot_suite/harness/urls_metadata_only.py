"""Only DOT's metadata routes: every endpoint the document would name is unregistered."""

from django.urls import path
from oauth2_provider import urls as dot_urls

from .urls import oauth2_provider_urls

urlpatterns = [path("o/", oauth2_provider_urls(dot_urls.metadata_urlpatterns))]
