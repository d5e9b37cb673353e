"""Pairwise subject identifiers per client (OIDC Core §8.1) and the claims request kept with the
authentication record (OIDC Core §5.5; mfa_oauth.oauth.claims, .subject; docs/claims.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mfa_oauth", "0008_legacy_grants"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientpolicy",
            name="subject_type",
            field=models.CharField(
                choices=[("public", "Public"), ("pairwise", "Pairwise")],
                default="public",
                help_text=(
                    "Public: every client sees the same sub for a user. Pairwise: clients of different "
                    "sectors see different, unlinkable subs (OpenID Connect Core §8.1)."
                ),
                max_length=16,
                verbose_name="subject type",
            ),
        ),
        migrations.AddField(
            model_name="clientpolicy",
            name="sector_identifier_uri",
            field=models.URLField(
                blank=True,
                help_text=(
                    "Pairwise only: an https URL of a JSON array listing every redirect URI of this client; its "
                    "host is the sector that shares one sub per user. Needed when the redirect URIs have "
                    "several hosts. Fetched and checked when saved."
                ),
                max_length=2000,
                verbose_name="sector identifier URI",
            ),
        ),
        migrations.AddField(
            model_name="authenticationrecord",
            name="claims_request",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
    ]
