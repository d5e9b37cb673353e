"""``ClientSecurityProfile.id_token_signed_response_alg`` (OIDC Dynamic Client Registration §2): the alg
of the client's id_tokens; blank keeps what every client had before (DOT's algorithm)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mfa_oauth", "0014_cc_dpop"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientsecurityprofile",
            name="id_token_signed_response_alg",
            field=models.CharField(
                blank=True,
                choices=[("PS256", "PS256"), ("ES256", "ES256"), ("EdDSA", "EdDSA (Ed25519)"), ("RS256", "RS256")],
                help_text=(
                    "Blank: the application's own algorithm above (RS256 or HS256); under the FAPI 2.0 switch the "
                    "first PS256, ES256 or EdDSA key of MFA_OAUTH['ID_TOKEN_SIGNING_KEYS']. Only algorithms the "
                    "site has a key for are accepted."
                ),
                max_length=8,
                verbose_name="id_token signing algorithm",
            ),
        ),
    ]
