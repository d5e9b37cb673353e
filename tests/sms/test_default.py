"""The embedded default (no environment): Celery eager, codes printed on the console, and the
demo data has an SMS user."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from mfa_oauth.sms.models import SMSDevice

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_makes_bob_with_a_verified_phone_and_the_console_carries_his_code(client, capsys, mfa_settings):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())  # idempotent
    assert "bob / bob-demo-password" in out.getvalue()
    device = SMSDevice.objects.get(user__username="bob")
    assert device.confirmed and device.number == "+12025550123"

    mfa_settings(SMS_BACKEND="console")
    assert client.post("/accounts/login/", {"username": "bob", "password": "bob-demo-password"}).status_code == 302
    capsys.readouterr()
    page = client.post("/mfa/verify/?next=/demo/", {"device": device.persistent_id, "action": "send"})
    assert page.status_code == 200
    console = capsys.readouterr().out
    assert "SMS to +12025550123" in console
    code = re.search(r"^(\d{6}) is your mfa_oauth IdP code", console, re.M).group(1)
    done = client.post("/mfa/verify/?next=/demo/", {"device": device.persistent_id, "token": code})
    assert done.status_code == 303 and done["Location"] == "/demo/"
