"""One link row per token issuance instead of one per token (mfa_oauth.models.TokenLink).

Forward: a ``TokenLink`` for every access-token link, the refresh-token links folded into the row of
the access token they were issued with (same record, the refresh token's ``access_token``), the rest
as rows of their own; then the two old tables go. Reversible: every row splits back into its links.
"""

import django.db.models.deletion
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


def fold(apps, schema_editor):
    Access = apps.get_model("mfa_oauth", "AccessTokenAuthentication")
    Refresh = apps.get_model("mfa_oauth", "RefreshTokenAuthentication")
    TokenLink = apps.get_model("mfa_oauth", "TokenLink")
    by_access = {}
    for link in Access.objects.all().iterator():
        by_access[link.access_token_id] = TokenLink.objects.create(
            access_token_id=link.access_token_id, record_id=link.record_id
        )
    for link in Refresh.objects.select_related("refresh_token").iterator():
        row = by_access.get(link.refresh_token.access_token_id)
        if row is not None and row.record_id == link.record_id and row.refresh_token_id is None:
            row.refresh_token_id = link.refresh_token_id
            row.save(update_fields=["refresh_token"])
        else:
            TokenLink.objects.create(refresh_token_id=link.refresh_token_id, record_id=link.record_id)


def split(apps, schema_editor):
    Access = apps.get_model("mfa_oauth", "AccessTokenAuthentication")
    Refresh = apps.get_model("mfa_oauth", "RefreshTokenAuthentication")
    TokenLink = apps.get_model("mfa_oauth", "TokenLink")
    for row in TokenLink.objects.all().iterator():
        if row.access_token_id is not None:
            Access.objects.create(access_token_id=row.access_token_id, record_id=row.record_id)
        if row.refresh_token_id is not None:
            Refresh.objects.create(refresh_token_id=row.refresh_token_id, record_id=row.record_id)


class Migration(migrations.Migration):
    dependencies = [
        ("mfa_oauth", "0012_journeys_labels"),
        migrations.swappable_dependency(oauth2_settings.ACCESS_TOKEN_MODEL),
        migrations.swappable_dependency(oauth2_settings.REFRESH_TOKEN_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "access_token",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=oauth2_settings.ACCESS_TOKEN_MODEL,
                    ),
                ),
                (
                    "refresh_token",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=oauth2_settings.REFRESH_TOKEN_MODEL,
                    ),
                ),
                (
                    "record",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="mfa_oauth.authenticationrecord",
                    ),
                ),
            ],
        ),
        migrations.RunPython(fold, split),
        migrations.DeleteModel(name="AccessTokenAuthentication"),
        migrations.DeleteModel(name="RefreshTokenAuthentication"),
        # The reverse accessors the old links had (token.mfa_authentication), now that they are gone.
        migrations.AlterField(
            model_name="tokenlink",
            name="access_token",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="mfa_authentication",
                to=oauth2_settings.ACCESS_TOKEN_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="tokenlink",
            name="refresh_token",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="mfa_authentication",
                to=oauth2_settings.REFRESH_TOKEN_MODEL,
            ),
        ),
    ]
