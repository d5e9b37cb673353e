"""The audit log in the admin: filter and search, never add, change or delete."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import AuthEvent


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    # Seven narrow columns: the list fits a 1280 px screen beside the admin's navigation and filters.
    list_display = ("at", "kind", "who", "method", "client_id", "short_acr", "ip")
    list_filter = ("kind", "method", "at", "client_id")
    search_fields = ("username", "actor__username", "ip", "client_id", "device_name", "user_agent")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    show_full_result_count = False  # COUNT(*) over a large log on every page load is slow

    class Media:
        css = {"all": ("mfa_oauth/admin.css",)}

    @admin.display(description=_("user"), ordering="username")
    def who(self, event: AuthEvent) -> str:
        """The user, and the operator who acted for them when it was someone else."""
        actor = event.actor.get_username() if event.actor is not None else ""
        return f"{event.username} (by {actor})" if actor and actor != event.username else event.username

    @admin.display(description=_("acr"), ordering="acr")
    def short_acr(self, event: AuthEvent) -> str:
        # The site's own ACR values share one prefix (mfa_oauth.context.ACR_LEVELS): show the level.
        return (event.acr or "-").removeprefix("urn:mfa_oauth:acr:")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
