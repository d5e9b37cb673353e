from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MfaOauthConfig(AppConfig):
    name = "mfa_oauth"
    verbose_name = _("Multi-factor OAuth")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (  # noqa: F401  (registration side effects)
            checks,
            lifetime,  # noqa: F401  (user_logged_in receiver starting the session clock)
            receivers,
        )
        from .fapi import checks as fapi_checks  # noqa: F401  (registers mfa_oauth.E100-E101, W100-W102)
        from .oauth import signing_checks  # noqa: F401  (registers mfa_oauth.E140-E143, W140)
        from .seeds import checks as seed_checks  # noqa: F401  (registers mfa_oauth.E050/E051)
        from .seeds.fields import seal_device_keys

        # Before any query: django-otp's TOTP/HOTP seeds are sealed in the database (mfa_oauth.seeds).
        seal_device_keys()
