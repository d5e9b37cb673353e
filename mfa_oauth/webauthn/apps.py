from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebAuthnConfig(AppConfig):
    name = "mfa_oauth.webauthn"
    label = "mfa_oauth_webauthn"
    verbose_name = _("WebAuthn security keys and passkeys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
