from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrustConfig(AppConfig):
    """Remember this browser: an opt-in, per-client, revocable stand-in for the second factor."""

    name = "mfa_oauth.trust"
    label = "mfa_oauth_trust"
    verbose_name = _("Remembered browsers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Its checkbox and its stand-in factor are offered by the adapter
        # (DefaultMFAOAuthAdapter.get_challenge_extras / substitute_second_factor).
        from . import receivers  # noqa: F401  (signal receivers)
