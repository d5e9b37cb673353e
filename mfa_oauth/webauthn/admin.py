"""Admin: see, rename, disable or delete users' WebAuthn credentials (they are only ever created by a
registration ceremony in the user's browser, so there is no add form)."""

from django.contrib import admin
from django.http import HttpRequest

from .models import WebAuthnCredential


@admin.register(WebAuthnCredential)
class WebAuthnCredentialAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "name",
        "backup_eligible",
        "user_verifying",
        "sign_count",
        "created_at",
        "last_used_at",
        "clone_suspected_at",
        "confirmed",
    )
    list_filter = ("confirmed", "backup_eligible", "user_verifying", "attestation_verified", "clone_suspected_at")
    search_fields = ("user__username", "user__email", "name")
    raw_id_fields = ("user",)
    fields = (
        "user",
        "name",
        "confirmed",
        "aaguid",
        "attestation_format",
        "attestation_verified",
        "attestation_root",
        "transports",
        "backup_eligible",
        "backup_state",
        "user_verifying",
        "discoverable",
        "sign_count",
        "created_at",
        "last_used_at",
        "clone_suspected_at",
    )
    readonly_fields = (
        "user",
        "aaguid",
        "attestation_format",
        "attestation_verified",
        "attestation_root",
        "transports",
        "backup_eligible",
        "backup_state",
        "user_verifying",
        "discoverable",
        "sign_count",
        "created_at",
        "last_used_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
