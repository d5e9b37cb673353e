from django.apps import AppConfig


class AccountConfig(AppConfig):
    name = "mfa_oauth.account"
    label = "mfa_oauth_account"
    verbose_name = "Account security page"
