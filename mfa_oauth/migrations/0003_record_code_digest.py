"""Authorization codes find their AuthenticationRecord by a digest of the code, not a link row."""

import hashlib

from django.db import migrations, models


def copy_links(apps, schema_editor):
    GrantAuthentication = apps.get_model("mfa_oauth", "GrantAuthentication")
    for link in GrantAuthentication.objects.select_related("grant", "record").iterator():
        link.record.code_digest = hashlib.sha256(link.grant.code.encode()).hexdigest()
        link.record.save(update_fields=["code_digest"])


class Migration(migrations.Migration):
    dependencies = [("mfa_oauth", "0002_oath_totp_device")]

    operations = [
        migrations.AddField(
            model_name="authenticationrecord",
            name="code_digest",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        # Codes live for minutes: the ones still outstanding keep working across the upgrade.
        migrations.RunPython(copy_links, migrations.RunPython.noop),
        migrations.DeleteModel(name="GrantAuthentication"),
    ]
