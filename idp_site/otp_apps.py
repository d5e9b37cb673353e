"""django-otp's TOTP and HOTP plugins under names a person reads in the admin.

Django's documented way to rename an installed app (``AppConfig.verbose_name``): a subclass named
in INSTALLED_APPS. Without it the admin index shows the labels "Otp_Totp" / "Otp_Hotp"."""

from __future__ import annotations

from django_otp.plugins.otp_hotp.apps import DefaultConfig as HOTPDefaultConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPDefaultConfig


class TOTPConfig(TOTPDefaultConfig):
    verbose_name = "Authenticator apps (TOTP)"


class HOTPConfig(HOTPDefaultConfig):
    verbose_name = "Hardware tokens (HOTP)"
