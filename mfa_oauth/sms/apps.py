from django.apps import AppConfig


class SMSConfig(AppConfig):
    name = "mfa_oauth.sms"
    label = "mfa_oauth_sms"
    verbose_name = "SMS codes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..conf import settings as mfa_settings
        from ..enrollment import Enrollment, register
        from . import checks  # noqa: F401  (registers the system checks)

        if mfa_settings.SMS_ENABLED:
            register(
                Enrollment(
                    "sms",
                    "Text message",
                    "mfa_oauth:sms-add",
                    "A 6-digit code sent to your phone. Weaker than an app or a passkey.",
                    order=50,
                )
            )
