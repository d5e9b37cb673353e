"""The user admin with the user's second factors (:mod:`.user_admin`), and the backup-code admin.

``MFAUserAdmin`` is Django's ``UserAdmin`` with :class:`~.user_admin.MFAUserAdminMixin`. It is registered
only in place of Django's own ``UserAdmin``: a project that registers its own user admin keeps it (this
package's admin site adds the mixin to it; on another site, add the mixin to it yourself).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..backup_codes.models import BackupCodeDevice
from .user_admin import MFA_ACTIONS, MFAUserAdminMixin, factor_rows, operator_action  # noqa: F401  (public)

User = get_user_model()


class MFAUserAdmin(MFAUserAdminMixin, UserAdmin):
    pass


if not admin.site.is_registered(User):
    admin.site.register(User, MFAUserAdmin)
elif type(admin.site.get_model_admin(User)) is UserAdmin:  # Django's own on a plain site: replace it
    admin.site.unregister(User)
    admin.site.register(User, MFAUserAdmin)


@admin.register(BackupCodeDevice)
class BackupCodeDeviceAdmin(admin.ModelAdmin):
    """Backup code sets: list and filter; codes are never visible (only hashes are stored)."""

    list_display = ("user", "name", "confirmed", "remaining_codes", "created_at", "last_used_at")
    list_filter = ("confirmed", "created_at", "last_used_at")
    search_fields = ("user__username", "user__email")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    readonly_fields = ("user", "created_at", "last_used_at", "throttling_failure_count")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created from the user page, where the codes are shown once

    @admin.display(description=_("unused codes"))
    def remaining_codes(self, obj: Any) -> int:
        return obj.remaining
