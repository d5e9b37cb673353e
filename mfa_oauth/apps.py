from django.apps import AppConfig


class MfaOauthConfig(AppConfig):
    name = "mfa_oauth"
    verbose_name = "Multi-factor OAuth"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (  # noqa: F401  (registration side effects)
            checks,
            lifetime,  # noqa: F401  (user_logged_in receiver starting the session clock)
            receivers,
        )
        from .enrollment import Enrollment, register

        register(
            Enrollment(
                "totp",
                "Authenticator app",
                "mfa_oauth:enroll-totp",
                "A 6-digit code from an app such as Google Authenticator, Aegis or 1Password.",
                order=10,
            )
        )
