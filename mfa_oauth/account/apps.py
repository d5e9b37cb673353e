from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountConfig(AppConfig):
    name = "mfa_oauth.account"
    label = "mfa_oauth_account"
    verbose_name = _("Account security page")
