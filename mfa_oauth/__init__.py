"""Multi-factor authentication for django-oauth-toolkit's OAuth 2.0 / OpenID Connect provider."""

__version__ = "0.1.0"
