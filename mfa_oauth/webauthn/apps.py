from django.apps import AppConfig


class WebAuthnConfig(AppConfig):
    name = "mfa_oauth.webauthn"
    label = "mfa_oauth_webauthn"
    verbose_name = "WebAuthn security keys and passkeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ..enrollment import Enrollment, register
        from . import checks  # noqa: F401  (registers the system checks)

        register(
            Enrollment(
                "webauthn",
                "Security key or passkey",
                "mfa_oauth:webauthn-register",
                "A USB/NFC security key, or your device's fingerprint, face or screen lock. "
                "Phishing-resistant: it only works on this site.",
                order=5,
                phishing_resistant=True,
            )
        )
