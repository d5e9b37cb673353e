"""Admin: the per-client switch and the remembered browsers, with "forget" actions."""

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .flows import forget_all
from .models import BrowserTrustPolicy, TrustedBrowser


@admin.register(BrowserTrustPolicy)
class BrowserTrustPolicyAdmin(admin.ModelAdmin):
    list_display = ("application", "remember_days")
    search_fields = ("application__name", "application__client_id")


@admin.register(TrustedBrowser)
class TrustedBrowserAdmin(admin.ModelAdmin):
    list_display = ("user", "label", "method", "created_at", "expires_at")
    list_filter = ("method",)
    search_fields = ("user__username", "label")
    readonly_fields = ("user", "created_at", "expires_at", "method", "amr", "level", "verified_at", "device", "label")
    actions = ["forget_all_of_users"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # trust is only ever established by a second factor

    @admin.action(description=_("Forget every browser of the selected entries' users"))
    def forget_all_of_users(self, request: HttpRequest, queryset: Any) -> None:
        users = {browser.user for browser in queryset.select_related("user")}
        total = sum(forget_all(user) for user in users)
        self.message_user(request, f"{total} remembered browsers forgotten for {len(users)} users.", messages.SUCCESS)
