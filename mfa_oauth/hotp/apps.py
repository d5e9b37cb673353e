from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HOTPConfig(AppConfig):
    """HOTP hardware tokens on django-otp's ``otp_hotp`` plugin: a bounded look-ahead and an admin
    form that checks the token's secret. No models of its own."""

    name = "mfa_oauth.hotp"
    label = "mfa_oauth_hotp"
    verbose_name = _("HOTP hardware tokens")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the look-ahead bound)
