"""Mark the DOT codes and refresh tokens that exist before mfa_oauth (docs/adoption.md).

Forward: one UpgradeMark row with the highest Grant and RefreshToken primary keys at this moment
(0 and 0 on a new site). The validator lets a row at or below the mark through without an
authentication record, with an unknown context (no acr/amr/auth_time); every later row needs one.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Max
from django.utils import timezone
# DOT's model names as DOT resolves them (its defaults when a project sets none), like DOT's own migrations.
from oauth2_provider.settings import oauth2_settings


def mark(apps, schema_editor):
    alias = schema_editor.connection.alias
    grant = apps.get_model(oauth2_settings.GRANT_MODEL)
    refresh_token = apps.get_model(oauth2_settings.REFRESH_TOKEN_MODEL)
    apps.get_model("mfa_oauth", "UpgradeMark").objects.using(alias).update_or_create(
        pk=1,
        defaults={
            "grant_max_pk": grant.objects.using(alias).aggregate(m=Max("pk"))["m"] or 0,
            "refresh_token_max_pk": refresh_token.objects.using(alias).aggregate(m=Max("pk"))["m"] or 0,
            "installed_at": timezone.now(),
        },
    )


class Migration(migrations.Migration):

    dependencies = [
        ('mfa_oauth', '0007_seed_encrypt_otp_seeds'),
        migrations.swappable_dependency(oauth2_settings.GRANT_MODEL),
        migrations.swappable_dependency(oauth2_settings.REFRESH_TOKEN_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='UpgradeMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('grant_max_pk', models.BigIntegerField(default=0)),
                ('refresh_token_max_pk', models.BigIntegerField(default=0)),
                ('installed_at', models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name='LegacyRefreshToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('refresh_token', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='mfa_legacy', to=oauth2_settings.REFRESH_TOKEN_MODEL)),
            ],
        ),
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
