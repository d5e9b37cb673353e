"""DPoP-bound tokens without an authentication record (client_credentials; RFC 9449 §5).

``TokenLink.record`` becomes optional and the row gets its own ``dpop_jkt``: a client's own token has
no authentication to point at, only the key it is bound to. Existing rows keep their record.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mfa_oauth", "0013_token_link"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tokenlink",
            name="record",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="mfa_oauth.authenticationrecord",
            ),
        ),
        migrations.AddField(
            model_name="tokenlink",
            name="dpop_jkt",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
    ]
