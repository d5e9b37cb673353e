from django.apps import AppConfig


class DeviceFlowConfig(AppConfig):
    """The device authorization grant (RFC 8628) behind the same MFA gate as /o/authorize/."""

    name = "mfa_oauth.device"
    label = "mfa_oauth_device"
    verbose_name = "Device authorization grant"
    default_auto_field = "django.db.models.BigAutoField"
