from django.apps import AppConfig


class SMSConfig(AppConfig):
    name = "mfa_oauth.sms"
    label = "mfa_oauth_sms"
    verbose_name = "SMS codes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
