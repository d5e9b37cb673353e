"""Encrypt the OTP seeds already in the database (mfa_oauth.seeds; docs/security.md "OTP seeds at rest").

Forward: every clear TOTP/HOTP/OATH seed is sealed with the first MFA_OAUTH["SEED_KEYS"] key (rows
sealed under an older key are re-encrypted too, as ``mfa_rotate_seeds`` does). Reversible: going
back writes the seeds in clear hex again, which needs every key that sealed them; if one row cannot
be opened nothing is changed. No schema change: the columns stay django-otp's CharFields.
"""

from django.apps import apps as global_apps
from django.db import migrations

from mfa_oauth.seeds.rows import SEED_MODELS, reseal, unseal_all


def _models(apps):
    for app_label, model_name in SEED_MODELS:
        try:
            yield apps.get_model(app_label, model_name)
        except LookupError:
            continue  # that django-otp plugin is not installed


def seal_seeds(apps, schema_editor):
    for model in _models(apps):
        reseal(model, using=schema_editor.connection.alias)


def unseal_seeds(apps, schema_editor):
    for model in _models(apps):
        unseal_all(model, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("mfa_oauth", "0006_resource_servers"),
        # The django-otp plugins whose tables hold seeds, when installed.
        *[
            (label, "0003_add_timestamps")
            for label, app in (("otp_totp", "django_otp.plugins.otp_totp"), ("otp_hotp", "django_otp.plugins.otp_hotp"))
            if global_apps.is_installed(app)
        ],
    ]

    operations = [migrations.RunPython(seal_seeds, unseal_seeds, elidable=False)]
