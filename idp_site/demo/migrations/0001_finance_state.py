"""The finance app's per-browser state in the database instead of the site's cache (idp_site.demo.models)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="FinanceAppState",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("pending", models.TextField(blank=True, default="")),
                ("data", models.JSONField(blank=True, default=dict)),
                ("expires", models.DateTimeField(db_index=True)),
            ],
            options={"verbose_name": "finance app browser state"},
        ),
    ]
