"""Device and outbox admins for the SMS factor: device admins list and filter all factors.

Registered on ``admin.site`` like django-otp's own device admins; the MFA admin site (operators)
puts a second factor in front of it. The outbox is read-only and never shows the sealed code.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import SMSDevice, SMSMessage


@admin.register(SMSDevice)
class SMSDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "masked_number", "confirmed", "assigned", "created_at", "last_used_at")
    list_filter = ("confirmed", "assigned")
    search_fields = ("user__username", "name", "number")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "last_used_at", "throttling_failure_timestamp", "throttling_failure_count")

    @admin.display(description=_("number"))
    def masked_number(self, device: SMSDevice) -> str:
        return device.masked_number


@admin.register(SMSMessage)
class SMSMessageAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "purpose", "masked_to", "status", "error_code", "attempts", "created_at")
    list_filter = ("status", "purpose", "country")
    search_fields = ("user__username", "provider_sid")
    date_hierarchy = "created_at"
    # Everything but the sealed code (the worker's copy of a live code).
    fields = (
        "user", "device", "purpose", "to", "country", "client_ip", "status", "error_code", "error_message",
        "provider_sid", "attempts", "maybe_sent", "created_at", "expires_at", "next_attempt_at", "claimed_at",
        "sent_at", "status_updated_at",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("to"))
    def masked_to(self, message: SMSMessage) -> str:
        from .phone import mask

        return mask(message.to)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
