from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SMSConfig(AppConfig):
    name = "mfa_oauth.sms"
    label = "mfa_oauth_sms"
    verbose_name = _("SMS codes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            models,
            outbox,
            service,
            tasks,
        )

        # The callbacks that keep models -> service -> outbox -> tasks -> delivery free of import cycles.
        outbox.connect(tasks.enqueue)
        models.connect_service(
            send_login_code=service.send_login_code,
            verify_login_code=service.verify_login_code,
            login_attempt_id=service.login_attempt_id,
        )
