"""The MFA admin: second factor for staff, the user page with factors, actions, overview."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from django_otp.oath import hotp
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import lockout
from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.backup_codes import flows as backup_flows
from mfa_oauth.backup_codes.models import BackupCodeDevice
from mfa_oauth.methods import confirmed_devices
from mfa_oauth.models import UserMFAState
from mfa_oauth.operators import services
from tests.account.cleartext import places_holding
from tests.account.helpers import give_mfa, login, make_staff, verify_totp
from tests.conftest import PASSWORD

RFC4226_SEED_HEX = b"12345678901234567890".hex()


@pytest.fixture
def staff(db):
    return make_staff()


@pytest.fixture
def staff_device(staff):
    return TOTPDevice.objects.create(user=staff, name="admin phone", confirmed=True)


@pytest.fixture
def admin_client(client, staff, staff_device):
    give_mfa(client, staff, staff_device)
    return client


@pytest.fixture
def target(user):
    TOTPDevice.objects.create(user=user, name="alice phone", confirmed=True)
    HOTPDevice.objects.create(user=user, name="yubikey", key=RFC4226_SEED_HEX, confirmed=True)
    backup_flows.generate(user)
    mail.outbox.clear()
    return user


def _url(user, suffix: str = "") -> str:
    return f"/admin/auth/user/{user.pk}/{suffix}"


# --- the admin requires a second factor --------------------------------------------------------


def test_staff_with_password_only_is_sent_to_the_challenge(client, staff, staff_device):
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/?next=%2Fadmin%2F")
    verify_totp(client, staff_device)
    assert client.get("/admin/").status_code == 200


def test_staff_without_a_device_enrolls_first(client, staff):
    login(client, staff)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/enroll/totp/?next=%2Fadmin%2F")
    page = client.get(response["Location"]).content.decode()
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page).group(1)
    done = client.post("/mfa/enroll/totp/", {"token": pyotp.TOTP(secret).now(), "next": "/admin/"})
    assert done.status_code == 303 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_index_links_the_overview(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'id="mfa-overview-link"' in page and "/admin/mfa-overview/" in page


# --- the user page with its factors -----------------------------------------------------------


def test_user_page_shows_every_factor(admin_client, target):
    UserMFAState.objects.create(user=target, failure_count=1)
    page = admin_client.get(_url(target, "change/")).content.decode()
    table = page.split('id="mfa-factor-table"')[1].split("</table>")[0]
    assert table.count('class="mfa-factor-row"') == 3
    for text in ("Authenticator app", "alice phone", "Hardware token", "yubikey", "Backup code", "10 unused"):
        assert text in table
    assert 'id="mfa-failures"' in page
    assert ('id="mfa-enroll-sms"' in page) == services.sms_installed()


def test_reset_with_confirmation(admin_client, target, staff):
    confirm = admin_client.get(_url(target, "mfa/reset/"))
    assert confirm.status_code == 200 and 'id="mfa-question"' in confirm.content.decode()
    assert len(confirmed_devices(target)) == 3
    response = admin_client.post(_url(target, "mfa/reset/"))
    assert response.status_code == 302
    assert confirmed_devices(target) == []
    removed = AuthEvent.objects.filter(kind=EventKind.FACTOR_REMOVED, user=target)
    assert removed.count() == 3 and set(removed.values_list("actor", flat=True)) == {staff.pk}
    assert all(device.endswith(tuple("0123456789")) for device in removed.values_list("device", flat=True))
    assert len(mail.outbox) == 3


def test_unlock(admin_client, target, staff, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 2}
    UserMFAState.objects.create(user=target, failure_count=2, locked_at=timezone.now())
    assert lockout.is_locked(target)
    assert 'id="mfa-locked"' in admin_client.get(_url(target, "change/")).content.decode()
    assert admin_client.post(_url(target, "mfa/unlock/")).status_code == 302
    assert not lockout.is_locked(target)
    event = AuthEvent.objects.get(kind=EventKind.UNLOCKED)
    assert (event.user, event.actor) == (target, staff)


def test_backup_codes_are_shown_once(admin_client, target):
    form = admin_client.get(_url(target, "mfa/backup-codes/")).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', form).group(1)
    shown = admin_client.post(_url(target, "mfa/backup-codes/"), {"nonce": nonce})
    codes = re.findall(r"<code>([a-z2-7-]{24})</code>", shown.content.decode())
    assert len(codes) == 10 and "no-store" in shown["Cache-Control"]
    assert places_holding(codes) == []  # shown on the answer to the POST, kept nowhere (session, tables, cache)
    again = admin_client.post(_url(target, "mfa/backup-codes/"), {"nonce": nonce})
    assert again.status_code == 302 and not re.findall(r"<code>", admin_client.get(again["Location"]).content.decode())
    device = BackupCodeDevice.objects.get(user=target)
    assert device.verify_token(codes[0]) and not device.verify_token(codes[0])


def test_enroll_totp_shows_the_qr_code_once(admin_client, target):
    form = admin_client.get(_url(target, "mfa/enroll/totp/")).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', form).group(1)
    shown = admin_client.post(_url(target, "mfa/enroll/totp/"), {"nonce": nonce, "name": "handed over"})
    page = shown.content.decode()
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page and "no-store" in shown["Cache-Control"]
    device = TOTPDevice.objects.get(user=target, name="handed over")
    assert device.confirmed and device.verify_token(pyotp.TOTP(secret).now())
    reloaded = admin_client.post(_url(target, "mfa/enroll/totp/"), {"nonce": nonce, "name": "handed over"})
    assert reloaded.status_code == 302
    assert TOTPDevice.objects.filter(user=target, name="handed over").count() == 1
    assert secret not in admin_client.get(reloaded["Location"]).content.decode()
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED, user=target).count() == 1
    assert len(mail.outbox) == 1


def test_enroll_hotp_by_secret(admin_client, user):
    url = _url(user, "mfa/enroll/hotp/")
    bad = admin_client.post(url, {"name": "key", "secret": "not a secret!", "digits": 6, "counter": 0})
    assert bad.status_code == 200 and "hex or base32" in bad.content.decode()
    short = admin_client.post(url, {"name": "key", "secret": "abcdef", "digits": 6, "counter": 0})
    assert "too short" in short.content.decode()
    assert not HOTPDevice.objects.filter(user=user).exists()
    ok = admin_client.post(url, {"name": "key", "secret": RFC4226_SEED_HEX, "digits": 6, "counter": 0})
    assert ok.status_code == 302
    device = HOTPDevice.objects.get(user=user)
    assert device.verify_token("755224")  # RFC 4226 Appendix D, counter 0
    assert str(hotp(device.bin_key, 1)).zfill(6) == "287082"
    duplicate = admin_client.post(url, {"name": "key", "secret": RFC4226_SEED_HEX, "digits": 6, "counter": 0})
    assert "already enrolled" in duplicate.content.decode()


def test_sms_options_are_hidden_without_the_sms_app(admin_client, target, monkeypatch):
    monkeypatch.setattr(services, "sms_installed", lambda: False)
    assert 'id="mfa-enroll-sms"' not in admin_client.get(_url(target, "change/")).content.decode()
    assert admin_client.get(_url(target, "mfa/enroll/sms/")).status_code == 404
    device = TOTPDevice.objects.filter(user=target).first()
    assert admin_client.get(_url(target, f"mfa/test-sms/{device.pk}/")).status_code == 404


def test_bulk_reset_action_asks_first(admin_client, target):
    data = {"action": "reset_second_factor", "_selected_action": [target.pk]}
    confirm = admin_client.post("/admin/auth/user/", data)
    assert confirm.status_code == 200 and 'id="mfa-question"' in confirm.content.decode()
    assert len(confirmed_devices(target)) == 3
    done = admin_client.post("/admin/auth/user/", {**data, "confirm": "yes"})
    assert done.status_code == 302 and confirmed_devices(target) == []


def test_device_admins_list_and_filter(admin_client, target):
    for url in (
        "/admin/otp_totp/totpdevice/?confirmed__exact=1",
        "/admin/otp_hotp/hotpdevice/",
        "/admin/mfa_oauth_backup_codes/backupcodedevice/?confirmed__exact=1",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200 and "alice" in response.content.decode(), url


def test_overview_renders_svg_charts(admin_client, target, monkeypatch):
    monkeypatch.setattr(services, "sms_installed", lambda: False)
    AuthEvent.objects.create(kind=EventKind.MFA_FAILED, username="alice")
    AuthEvent.objects.create(kind=EventKind.LOCKED, username="alice")
    response = admin_client.get("/admin/mfa-overview/")
    page = response.content.decode()
    assert response.status_code == 200
    main = page.split('id="content-main"')[1].split("<!-- END")[0]
    assert main.count('<svg xmlns="http://www.w3.org/2000/svg" class="mfa-chart"') == 2 and 'id="sms-disabled"' in page
    table = page.split('id="enrollment-table"')[1].split("</table>")[0]
    # alice: TOTP, HOTP, backup codes; root: TOTP; owner-less users: none.
    assert "<td>Authenticator app</td><td>2</td>" in table
    assert "<td>Hardware token</td><td>1</td>" in table and "<td>Backup code</td><td>1</td>" in table
    assert "<td>None</td><td>0</td>" in table
    assert "1 failures, 1 lockouts" in page
    assert "<script" not in main


# --- refused for users who are not staff -------------------------------------------------------


@pytest.mark.parametrize(
    "suffix",
    ["change/", "mfa/reset/", "mfa/unlock/", "mfa/backup-codes/", "mfa/enroll/totp/", "mfa/enroll/hotp/"],
)
def test_non_staff_are_refused(client, target, suffix):
    device = TOTPDevice.objects.get(user=target)
    give_mfa(client, target, device)
    for method in (client.get, client.post):
        response = method(_url(target, suffix))
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert len(confirmed_devices(target)) == 3
    assert client.get("/admin/mfa-overview/").status_code == 302


def test_staff_without_change_permission_get_403(client, target):
    viewer = get_user_model().objects.create_user("viewer", "v@example.com", PASSWORD, is_staff=True)
    device = TOTPDevice.objects.create(user=viewer, name="v", confirmed=True)
    give_mfa(client, viewer, device)
    assert client.post(_url(target, "mfa/reset/")).status_code == 403
    assert len(confirmed_devices(target)) == 3


def test_shared_helper_opens_the_admin(client, db):
    from tests.conftest import pass_second_factor

    staff = make_staff("helper")
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302
    pass_second_factor(client, staff)
    assert client.get("/admin/").status_code == 200


def test_overview_query_count_does_not_grow_with_users(admin_client, django_assert_max_num_queries):
    User = get_user_model()
    User.objects.bulk_create([User(username=f"bulk{i}") for i in range(500)])
    with django_assert_max_num_queries(16):
        page = admin_client.get("/admin/mfa-overview/").content.decode()
    assert "<td>None</td><td>500</td>" in page


def test_device_admin_never_shows_a_secret_again(admin_client, target):
    device = TOTPDevice.objects.get(user=target)
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
