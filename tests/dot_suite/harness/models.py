"""The ``tests`` app's models: the swappable-model variants DOT's modules name.

``tests.Sample*`` are swapped in by some tests (``OAUTH2_PROVIDER_*_MODEL``); each adds a field so a
swap is visible. ``CustomPk*`` give the token models a primary key that is not ``id``. The
``*NotInstalled`` names DOT's tests use are deliberately absent.
"""

import uuid

from django.db import models
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractDeviceGrant,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
)
from oauth2_provider.settings import oauth2_settings


class SampleApplication(AbstractApplication):
    custom_field = models.CharField(max_length=255)


class SampleAccessToken(AbstractAccessToken):
    custom_field = models.CharField(max_length=255)
    source_refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="s_refreshed_access_token",
    )
    id_token = models.OneToOneField(
        oauth2_settings.ID_TOKEN_MODEL,
        on_delete=models.CASCADE,
        blank=True,
        null=True,
        related_name="s_access_token",
    )


class SampleRefreshToken(AbstractRefreshToken):
    custom_field = models.CharField(max_length=255)
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="s_refresh_token",
    )


class SampleGrant(AbstractGrant):
    custom_field = models.CharField(max_length=255)


class SampleDeviceGrant(AbstractDeviceGrant):
    custom_field = models.CharField(max_length=255, blank=True)


class LocalIDToken(AbstractIDToken):
    """An ID token model of the app's own (not swapped in by default)."""


class CustomPkAccessToken(AbstractAccessToken):
    id = None  # the abstract model's ``id`` primary key removed
    custom_pk = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_refresh_token = models.OneToOneField(
        "CustomPkRefreshToken",
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="refreshed_access_token",
    )
    id_token = models.OneToOneField(
        oauth2_settings.ID_TOKEN_MODEL,
        on_delete=models.CASCADE,
        blank=True,
        null=True,
        related_name="custom_pk_access_token",
    )


class CustomPkRefreshToken(AbstractRefreshToken):
    id = None
    custom_pk = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    access_token = models.OneToOneField(
        CustomPkAccessToken,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        # DOT's clear_expired() follows the reverse accessor by this name.
        related_name="refresh_token",
    )
