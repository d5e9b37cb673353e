from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "mfa_oauth.notifications"
    label = "mfa_oauth_notifications"
    verbose_name = _("Security notifications")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
