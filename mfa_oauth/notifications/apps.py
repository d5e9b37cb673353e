from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "mfa_oauth.notifications"
    label = "mfa_oauth_notifications"
    verbose_name = "Security notifications"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
