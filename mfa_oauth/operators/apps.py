from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class OperatorsConfig(AppConfig):
    name = "mfa_oauth.operators"
    label = "mfa_oauth_operators"
    verbose_name = _("MFA administration")
    default = True


class MFAAdminConfig(admin_apps.AdminConfig):
    """Use instead of ``django.contrib.admin`` in INSTALLED_APPS: the default admin site then
    requires a verified second factor for staff (Django's documented ``default_site`` hook)."""

    default = False
    default_site = "mfa_oauth.operators.site.MFAAdminSite"
