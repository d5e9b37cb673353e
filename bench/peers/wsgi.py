"""WSGI entry point of a peer site (``DJANGO_SETTINGS_MODULE=bench.peers.<peer>.settings``)."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
