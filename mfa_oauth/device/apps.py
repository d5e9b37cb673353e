from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeviceFlowConfig(AppConfig):
    """The device authorization grant (RFC 8628) behind the same MFA gate as /o/authorize/."""

    name = "mfa_oauth.device"
    label = "mfa_oauth_device"
    verbose_name = _("Device authorization grant")
    default_auto_field = "django.db.models.BigAutoField"
