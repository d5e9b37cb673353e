"""Enrollment and administration with the real SMS factor (``mfa_oauth.sms``, locmem gateway,
Celery eager): the admin's "enroll an SMS number" and "send a test SMS", ``mfa_enroll --sms``,
``mfa_import`` phone rows, the security page's SMS entries and the overview's SMS chart."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.methods import confirmed_devices
from mfa_oauth.sms import api
from mfa_oauth.sms.models import SMSDevice, SMSMessage
from tests.account.helpers import give_mfa, make_staff
from tests.sms.conftest import locmem_sms, mfa_settings  # noqa: F401  (fixtures)

NUMBER = "+12025550123"
MASKED = "+1 ••• ••• 0123"
OTHERS = "+12025550199"  # bob's
# The SMS outbox publishes its task on commit: the tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def staff(db):
    return make_staff()


@pytest.fixture
def admin_client(client, staff):
    give_mfa(client, staff, TOTPDevice.objects.create(user=staff, name="admin", confirmed=True))
    return client


@pytest.fixture
def bob(db):
    bob = get_user_model().objects.create_user("bob", "bob@example.com", "x")
    SMSDevice.objects.create(user=bob, name="Phone", number=OTHERS, confirmed=True)
    return bob


def test_admin_enrolls_an_unverified_number(admin_client, staff, user, bob, locmem_sms):  # noqa: F811
    url = f"/admin/auth/user/{user.pk}/mfa/enroll/sms/"
    assert 'id="mfa-enroll-sms"' in admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    for raw, message in [
        ("call me maybe", "That is not a phone number"),
        ("+44 20 7946 0000", "(landline)"),
        ("+33 6 12 34 56 78", "numbers in that country (FR)"),
        ("+1 202-555-0199", "This number is already used by another account."),
    ]:
        refused = admin_client.post(url, {"number": raw, "name": "mobile"})
        assert refused.status_code == 200 and message in text(refused), raw
    assert not SMSDevice.objects.filter(user=user).exists()
    assert not AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).exists() and locmem_sms == []

    done = admin_client.post(url, {"number": "+1 (202) 555-0123", "name": "mobile"})
    assert done.status_code == 302
    device = SMSDevice.objects.get(user=user)
    # Verified on first use: stored unconfirmed, marked as entered by an operator, nothing texted yet.
    assert (device.number, device.name, device.confirmed, device.assigned) == (NUMBER, "mobile", False, True)
    assert locmem_sms == []
    event = AuthEvent.objects.get(kind=EventKind.FACTOR_ADDED)
    assert (event.user, event.actor, event.method, event.detail) == (user, staff, "sms", {"source": "operator"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]

    page = text(admin_client.get(f"/admin/auth/user/{user.pk}/change/"))
    assert f"mobile ({MASKED})" in page and "Send a test SMS" in page
    again = admin_client.post(url, {"number": NUMBER})
    assert "already one of this account" in text(again) and SMSDevice.objects.filter(user=user).count() == 1


def test_admin_sends_a_test_sms(admin_client, staff, user, locmem_sms, mfa_settings):  # noqa: F811
    device = SMSDevice.objects.create(user=user, name="mobile", number=NUMBER, confirmed=True)
    url = f"/admin/auth/user/{user.pk}/mfa/test-sms/{device.pk}/"
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and f"Send a test message to mobile {MASKED}?" in text(confirm)
    assert locmem_sms == []

    sent = admin_client.post(url, follow=True)
    assert "Test message queued." in text(sent)
    assert [(m.to, m.body) for m in locmem_sms] == [
        (NUMBER, "Example IdP: this is a test message. You do not need to do anything.")
    ]
    row = SMSMessage.objects.get()
    assert (row.purpose, row.status, row.device, row.sealed_code) == ("test", "sent", device, "")
    event = AuthEvent.objects.get(kind=EventKind.CHALLENGE_SENT)
    assert (event.user, event.actor, event.method, event.detail) == (user, staff, "sms", {"purpose": "test"})
    assert event.device == device.persistent_id

    # The SMS limits hold for operators too: the cooldown refuses the next one, nothing is sent.
    again = admin_client.post(url, follow=True)
    assert "You can ask for another in 30 seconds" in text(again)
    assert len(locmem_sms) == 1 and AuthEvent.objects.filter(kind=EventKind.CHALLENGE_SENT).count() == 1

    other = get_user_model().objects.create_user("carol", "c@example.com", "x")
    assert admin_client.get(f"/admin/auth/user/{other.pk}/mfa/test-sms/{device.pk}/").status_code == 404


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_mfa_enroll_sms(user, bob, locmem_sms):  # noqa: F811
    out = run("mfa_enroll", "alice", "--sms", "+1 202 555 0123", "--name", "work")
    assert f"SMS number {MASKED} enrolled for alice." in out
    device = SMSDevice.objects.get(user=user)
    assert (device.number, device.name, device.confirmed, device.assigned) == (NUMBER, "work", False, True)
    assert confirmed_devices(user) == [device]  # usable at the challenge step, nothing else confirmed
    assert AuthEvent.objects.get(kind=EventKind.FACTOR_ADDED).detail == {"source": "operator"}
    for raw, message in [
        ("12345", "That is not a phone number"),
        ("+1 900 555 1234", "(premium-rate)"),
        (OTHERS, "This number is already used by another account."),
        (NUMBER, "already one of this account"),
    ]:
        with pytest.raises(CommandError, match=re.escape(message)):
            run("mfa_enroll", "alice", "--sms", raw)
    assert SMSDevice.objects.filter(user=user).count() == 1 and locmem_sms == []


def test_import_phone_rows(tmp_path, user, bob, locmem_sms):  # noqa: F811
    User = get_user_model()
    for name in ("dan", "eve", "fay"):
        User.objects.create_user(name, f"{name}@example.com", "x")
    path = tmp_path / "users.csv"
    path.write_text(
        "username,phone,name\n"
        "alice,+1 202 555 0123,mobile\n"  # good
        "dan,+1 555 0100,\n"  # not a number
        "eve,+44 20 7946 0000,\n"  # a landline
        f"fay,{OTHERS},\n"  # bob's number
        "dan,+1 202 555 0124,\n"  # good
        "eve,+1 202 555 0124,\n"  # dan's, from this very file
        "alice,+12025550123,\n"  # the same row again: once
        "zed,+12025550125,\n"  # unknown user
    )
    dry = run("mfa_import", str(path), "--dry-run", "--no-progress")
    # The dry run judges numbers by the SMS factor's rules; only the in-file clash needs a write.
    assert "Dry run, nothing written: 3 row(s) would be enrolled (3 sms)" in dry
    assert "line 3: refused dan: bad number '+1 555 0100': That phone number is incomplete" in dry
    assert "line 4: refused eve: bad number '+44 20 7946 0000': That number cannot receive" in dry
    assert "line 5: refused fay: bad number '+12025550199': This number is already used by another account." in dry
    assert SMSDevice.objects.count() == 1 and AuthEvent.objects.count() == 0

    out = run("mfa_import", str(path), "--no-progress")
    assert "line 7: refused eve: This number is already used by another account." in out
    assert "line 9: refused zed: unknown user" in out
    assert "Enrolled 2 row(s) (2 sms)," in out and "5 refused" in out
    assert sorted(SMSDevice.objects.filter(assigned=True).values_list("user__username", "number", "confirmed")) == [
        ("alice", NUMBER, False),
        ("dan", "+12025550124", False),
    ]
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).count() == 2 and locmem_sms == []

    rerun = run("mfa_import", str(path), "--no-progress")
    assert "Enrolled 0 row(s)" in rerun and "3 already enrolled" in rerun
    assert SMSDevice.objects.count() == 3


def test_security_page_lists_sms_devices_masked_with_the_risk_notice(client, user, totp_device):
    SMSDevice.objects.create(user=user, name="mobile", number=NUMBER, confirmed=True)
    pending = api.add_number(user, "+1 202 555 0124", name="desk")
    give_mfa(client, user, totp_device)
    page = text(client.get("/account/security/"))
    factors = page.split('id="mfa-factors"')[1].split("</section>")[0]
    assert f'<span class="mfa-factor-name">mobile</span> <span class="mfa-number">{MASKED}</span>' in factors
    assert 'class="mfa-sms-risk"' in factors and "redirected to another SIM" in factors
    waiting = page.split('id="mfa-pending"')[1].split("</section>")[0]
    assert "desk" in waiting and "+1 ••• ••• 0124" in waiting and "Added for you by an administrator." in waiting
    assert f'href="/mfa/sms/verify/{pending.pk}/?next=%2Faccount%2Fsecurity%2F"' in waiting
    # The real SMS factor's own entry in "add a factor", after the stronger ones, with its notice.
    assert 'id="add-sms"' in page and 'id="sms-risk"' in page
    assert page.index('id="add-totp"') < page.index('id="add-sms"')
    assert "+12025550123" not in page and "+12025550124" not in page  # never the whole number


def test_overview_draws_real_sms_delivery(admin_client, user, locmem_sms):  # noqa: F811
    device = api.add_number(user, NUMBER, verified=True)
    api.send_test_message(device)  # through the outbox and the locmem gateway: "sent"
    now = timezone.now()
    for status in ("delivered", "delivered", "failed", "undelivered"):
        SMSMessage.objects.create(user=user, device=device, to=NUMBER, status=status, created_at=now, expires_at=now)
    old = now - timedelta(days=20)  # outside the 14 days
    SMSMessage.objects.create(user=user, device=device, to=NUMBER, status="failed", created_at=old, expires_at=old)
    page = admin_client.get("/admin/mfa-overview/").content.decode()
    assert 'id="chart-sms"' in page and "<svg" in page.split('id="chart-sms"')[1]
    # sent: handed to the gateway (sent, delivered, undelivered); failed: failed or undelivered.
    assert '<p id="sms-totals">4 sent, 2 delivered, 2 failed.</p>' in page
