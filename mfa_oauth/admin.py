"""Admin: the per-client MFA policy is edited on DOT's application page."""

from typing import Any

from django.contrib import admin
from django.db import models
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import get_application_model

from .models import ClientPolicy, ClientSecurityProfile, OATHTOTPDevice, ResourceServer, UserMFAState

Application = get_application_model()


# A sector identifier URI typed without a scheme is https (OIDC Registration §5 requires it).
_HTTPS_URLS: dict[type[models.Field], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class ClientPolicyInline(admin.StackedInline):
    model = ClientPolicy
    can_delete = False
    extra = 1
    max_num = 1
    # ClientPolicy.clean() fetches and checks the sector identifier document when the page is saved.
    formfield_overrides = _HTTPS_URLS


class ResourceServerInline(admin.StackedInline):
    """Registers the client as a resource server: which tokens it may introspect (RFC 7662 §4)."""

    model = ResourceServer
    fk_name = "application"
    extra = 0
    max_num = 1
    filter_horizontal = ("clients",)


class ClientSecurityProfileInline(admin.StackedInline):
    """How the client authenticates (its public keys for private_key_jwt) and whether it must use
    PAR (docs/fapi.md). The model's clean() refuses private_key_jwt without keys."""

    model = ClientSecurityProfile
    can_delete = False
    extra = 1
    # A JWKS URI without a scheme means https (OIDC Core §10.1.1: keys are published over TLS).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    max_num = 1


class MFAApplicationAdmin(ApplicationAdmin):
    inlines = [
        *getattr(ApplicationAdmin, "inlines", []),
        ClientPolicyInline,
        ResourceServerInline,
        ClientSecurityProfileInline,
    ]


if admin.site.is_registered(Application):
    admin.site.unregister(Application)
admin.site.register(Application, MFAApplicationAdmin)


@admin.register(ClientPolicy)
class ClientPolicyAdmin(admin.ModelAdmin):
    list_display = ("application", "mfa_mode", "min_acr", "max_mfa_age", "subject_type")
    list_filter = ("mfa_mode", "min_acr", "subject_type")
    formfield_overrides = _HTTPS_URLS
    search_fields = ("application__name", "application__client_id")


@admin.register(UserMFAState)
class UserMFAStateAdmin(admin.ModelAdmin):
    list_display = ("user", "failure_count", "locked_at", "locked_until", "lock_level", "updated")
    list_filter = ("locked_at",)
    search_fields = ("user__username",)
    readonly_fields = ("failure_count", "total_failures", "lock_level", "locked_at", "locked_until", "updated")


@admin.register(OATHTOTPDevice)
class OATHTOTPDeviceAdmin(admin.ModelAdmin):
    """Operators enroll a SHA-256/512 TOTP token by its secret; the secret is never shown again."""

    list_display = ("user", "name", "algorithm", "digits", "confirmed", "last_used_at")
    list_filter = ("algorithm", "confirmed")
    search_fields = ("user__username", "name")
    raw_id_fields = ("user",)
    fields = ("user", "name", "confirmed", "key", "algorithm", "digits", "step", "t0", "tolerance")

    def get_fields(self, request, obj=None):
        return [f for f in self.fields if f != "key"] if obj is not None else list(self.fields)
