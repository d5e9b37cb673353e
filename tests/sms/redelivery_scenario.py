"""Run in a subprocess by the redelivery test: create a user with a phone and queue one code.

Prints the outbox row id. Uses the settings in DJANGO_SETTINGS_MODULE (a shared file database,
the real Redis broker), so the task goes to Redis exactly as from the site.
"""

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from mfa_oauth.sms import service  # noqa: E402
from mfa_oauth.sms.models import SMSDevice, SMSMessage  # noqa: E402

user = get_user_model().objects.create_user("carol", "carol@example.com", "x-password-123")
device = SMSDevice.objects.create(user=user, name="Phone", number="+12025550123", confirmed=True)
message = service.queue_code(
    user=user, device=device, purpose=SMSMessage.Purpose.LOGIN, attempt="scenario", client_ip="127.0.0.1"
)
print(message.pk)
