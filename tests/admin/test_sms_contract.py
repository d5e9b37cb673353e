"""This branch's side of the SMS contract, against a stand-in for ``mfa_oauth.sms.api``.

The SMS factor (``mfa_oauth.sms``) is built on another branch; its real tests replace these after
the merge. The stand-in follows the agreed contract: ``add_number(user, raw, *, name, verified)``
returning a device (raising ``InvalidNumber`` with ``user_message``), ``send_test_message(device)``
and ``delivery_stats(since) -> {date: {"sent", "delivered", "failed"}}``.
"""

from __future__ import annotations

import io
import sys
import types
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.methods import Method
from mfa_oauth.operators import services
from tests.account.helpers import give_mfa, make_staff

SMS = Method("sms", "Text message", ("sms",), sends_challenge=True)


class InvalidNumber(Exception):
    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


@pytest.fixture
def fake_sms(monkeypatch):
    calls: list = []

    def add_number(user, raw_number, *, name="", verified=False):
        calls.append(("add", raw_number, verified))
        if raw_number.strip() == "+41790000000":
            raise InvalidNumber("This number is already used by another account.")
        device = TOTPDevice.objects.create(user=user, name=name or raw_number[-4:], confirmed=True)
        device.mfa_method = SMS  # stands in for SMSDevice's class attribute
        return device

    def delivery_stats(since):
        today = timezone.now().date()
        return {today: {"sent": 7, "delivered": 5, "failed": 2}, today - timedelta(days=1): {"sent": 3}}

    api = types.SimpleNamespace(
        add_number=add_number,
        InvalidNumber=InvalidNumber,
        send_test_message=lambda device: calls.append(("test", device.pk)),
        delivery_stats=delivery_stats,
    )
    package = types.ModuleType("mfa_oauth.sms")
    package.api = api
    monkeypatch.setitem(sys.modules, "mfa_oauth.sms", package)
    monkeypatch.setitem(sys.modules, "mfa_oauth.sms.api", api)
    monkeypatch.setattr(services, "sms_installed", lambda: True)
    return calls


@pytest.fixture
def admin_client(client, db):
    staff = make_staff()
    give_mfa(client, staff, TOTPDevice.objects.create(user=staff, name="admin", confirmed=True))
    return client


def test_admin_enrolls_an_unverified_number(admin_client, user, fake_sms):
    url = f"/admin/auth/user/{user.pk}/mfa/enroll/sms/"
    assert 'id="mfa-enroll-sms"' in admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    taken = admin_client.post(url, {"number": "+41790000000"})
    assert taken.status_code == 200 and "already used by another account" in taken.content.decode()
    assert not AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).exists()
    assert admin_client.post(url, {"number": "+41791234567", "name": "mobile"}).status_code == 302
    assert fake_sms[-1] == ("add", "+41791234567", False)  # verified on first use
    event = AuthEvent.objects.get(kind=EventKind.FACTOR_ADDED)
    assert (event.user, event.method) == (user, "sms")


def test_mfa_enroll_sms(user, fake_sms):
    out = io.StringIO()
    call_command("mfa_enroll", "alice", "--sms", "+41791234567", stdout=out)
    assert "enrolled for alice" in out.getvalue() and fake_sms == [("add", "+41791234567", False)]


def test_import_phone_rows(tmp_path, user, fake_sms):
    path = tmp_path / "u.csv"
    path.write_text("username,phone\nalice,+41 79 123 45 67\nalice,+41790000000\n")
    out = io.StringIO()
    call_command("mfa_import", str(path), "--no-progress", stdout=out)
    assert "line 3: refused alice: This number is already used by another account." in out.getvalue()
    assert "Enrolled 1 row(s) (1 sms)" in out.getvalue()
    assert ("add", "+41791234567", False) in fake_sms  # normalised to E.164 first


def test_overview_draws_sms_delivery(admin_client, fake_sms):
    page = admin_client.get("/admin/mfa-overview/").content.decode()
    assert 'id="chart-sms"' in page and "10 sent, 5 delivered, 2 failed" in page
