from django.apps import AppConfig


class TrustConfig(AppConfig):
    """Remember this browser: an opt-in, per-client, revocable stand-in for the second factor."""

    name = "mfa_oauth.trust"
    label = "mfa_oauth_trust"
    verbose_name = "Remembered browsers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mfa_oauth.policy import register_second_factor_substitute
        from mfa_oauth.verify import extras

        from . import flows, receivers  # noqa: F401  (signal receivers)

        register_second_factor_substitute(flows.remembered_factor)
        extras.register(flows.checkbox_offer)
