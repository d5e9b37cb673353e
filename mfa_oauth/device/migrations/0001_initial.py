import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


# DOT creates its DeviceGrant in 0013; a swapped model is depended on through the setting.
if oauth2_settings.DEVICE_GRANT_MODEL == "oauth2_provider.DeviceGrant":
    DEVICE_GRANT_DEPENDENCY = ("oauth2_provider", "0013_alter_application_authorization_grant_type_device")
else:
    DEVICE_GRANT_DEPENDENCY = migrations.swappable_dependency(oauth2_settings.DEVICE_GRANT_MODEL)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("mfa_oauth", "0001_initial"),
        DEVICE_GRANT_DEPENDENCY,
    ]

    operations = [
        migrations.CreateModel(
            name="DeviceGrantAuthentication",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("consumed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "device_grant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mfa_authentication",
                        to=oauth2_settings.DEVICE_GRANT_MODEL,
                    ),
                ),
                (
                    "record",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="mfa_oauth.authenticationrecord"
                    ),
                ),
            ],
            options={"verbose_name": "device grant authentication"},
        ),
    ]
