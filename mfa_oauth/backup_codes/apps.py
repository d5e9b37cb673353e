from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupCodesConfig(AppConfig):
    name = "mfa_oauth.backup_codes"
    label = "mfa_oauth_backup_codes"
    verbose_name = _("Backup codes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (announces backup_code_used)
