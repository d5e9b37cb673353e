"""Which clients may introspect which tokens (RFC 7662 §4).

RFC 7662 §2.1 has the protected resource authenticate at the introspection endpoint, and §4 has the
authorization server decide which protected resources may learn about which tokens, answering the
others as if the token were inactive (§2.2), so that a client cannot scan, or read the user and
authentication of, tokens that were never meant for it.

Answered here: the client the token was issued to learns about it; so does a client registered as a
**resource server** for the token — a :class:`ResourceServer` row naming the clients whose tokens it
serves, and/or the RFC 8707 resource indicators (the token's ``aud``) it answers for. A site
registers one on the client's page in the admin ("Resource server"), or in code::

    server = ResourceServer.objects.create(application=api_client, audiences=["https://api.example/"])
    server.clients.add(web_client)

The decision needs the caller (an :class:`~oauth2_provider.models.Application`) and the token read
with :func:`annotate_for`, so that the introspection endpoint keeps reading everything in one
statement.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


def validate_audiences(value: Any) -> None:
    """A list of absolute URIs without fragment (RFC 8707 §2)."""
    if not isinstance(value, list):
        raise ValidationError(_('Enter a list of URIs, e.g. ["https://api.example/"].'))
    for item in value:
        parts = urlsplit(item) if isinstance(item, str) else None
        if parts is None or not parts.scheme or not (parts.netloc or parts.path) or parts.fragment or " " in item:
            raise ValidationError(
                _("%(value)r is not an absolute URI without a fragment (RFC 8707 §2)."), params={"value": item}
            )


class ResourceServer(models.Model):
    """A client that may introspect tokens issued to other clients."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="mfa_resource_server",
        help_text=_("The client the resource server authenticates as at the introspection endpoint."),
    )
    clients: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        oauth2_settings.APPLICATION_MODEL,
        blank=True,
        related_name="mfa_introspected_by",
        help_text=_("It may introspect the tokens issued to these clients."),
    )
    audiences = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_audiences],
        help_text=_(
            'And the tokens whose RFC 8707 resource indicators ("aud") include one of these URIs, '
            'compared exactly, e.g. ["https://api.example/"].'
        ),
    )

    class Meta:
        app_label = "mfa_oauth"
        verbose_name = _("resource server")

    def __str__(self) -> str:
        return f"Resource server {self.application}"


def annotate_for(queryset, caller):
    """``queryset`` of access tokens with what :func:`may_introspect` needs about ``caller``, in
    the same statement (an EXISTS and a scalar subquery)."""
    pk: Any = getattr(caller, "pk", None)  # None matches no row: a caller without a pk serves no client
    return annotate_for_pk(queryset, pk)


def annotate_for_pk(queryset, pk):
    """:func:`annotate_for` by the caller's primary key."""
    registrations = ResourceServer.clients.through.objects.filter(
        resourceserver__application_id=pk, application_id=OuterRef("application_id")
    )
    audiences = ResourceServer.objects.filter(application_id=pk).values("audiences")[:1]
    return queryset.annotate(
        mfa_caller_serves_client=Exists(registrations),
        mfa_caller_audiences=Subquery(audiences, output_field=models.JSONField()),
    )


def may_introspect(token: Any, caller: Any) -> bool:
    """Whether ``caller`` may learn about ``token`` (read with :func:`annotate_for`)."""
    if getattr(caller, "pk", None) is None:
        return False
    if token.application_id is not None and token.application_id == caller.pk:
        return True
    if getattr(token, "mfa_caller_serves_client", False):
        return True
    served = getattr(token, "mfa_caller_audiences", None)
    audiences = token.resource if isinstance(token.resource, list) else []
    return isinstance(served, list) and any(isinstance(a, str) and a in served for a in audiences)
