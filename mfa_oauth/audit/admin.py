"""The audit log in the admin: filter and search, never add, change or delete."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuthEvent


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "username", "actor", "method", "client_id", "acr", "ip")
    list_filter = ("kind", "method", "at", "client_id")
    search_fields = ("username", "actor__username", "ip", "client_id", "device_name", "user_agent")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    show_full_result_count = False  # COUNT(*) over a large log on every page load is slow

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
