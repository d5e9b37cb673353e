from django.apps import AppConfig


class WebAuthnConfig(AppConfig):
    name = "mfa_oauth.webauthn"
    label = "mfa_oauth_webauthn"
    verbose_name = "WebAuthn security keys and passkeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
