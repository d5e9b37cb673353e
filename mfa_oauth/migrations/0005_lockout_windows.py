"""Second-factor locks end after a window (docs/security.md, "Second-factor lockout").

Rows locked before this migration had no end; they become first locks that end 15 minutes (the
first default window) after they started, so nobody stays locked out by an old guesser. The
failures counted so far become the consecutive total that the NIST ceiling of 100 bounds.
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F

FIRST_DEFAULT_WINDOW = timedelta(minutes=15)  # a constant: migrations never read the live settings


def windowed(apps, schema_editor):
    UserMFAState = apps.get_model("mfa_oauth", "UserMFAState")
    UserMFAState.objects.update(total_failures=F("failure_count"))
    UserMFAState.objects.filter(locked_at__isnull=False).update(
        lock_level=1, locked_until=F("locked_at") + FIRST_DEFAULT_WINDOW
    )


def unwindowed(apps, schema_editor):
    # Back to locks without an end: a lock still running stays a lock.
    UserMFAState = apps.get_model("mfa_oauth", "UserMFAState")
    UserMFAState.objects.filter(locked_at__isnull=False, locked_until__lte=models.functions.Now()).update(
        failure_count=0, locked_at=None
    )


class Migration(migrations.Migration):
    dependencies = [("mfa_oauth", "0003_record_code_digest")]

    operations = [
        migrations.AddField(
            model_name="usermfastate",
            name="lock_level",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="usermfastate",
            name="locked_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="usermfastate",
            name="total_failures",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(windowed, unwindowed),
    ]
