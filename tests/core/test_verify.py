"""The challenge step: codes, replay, throttling, the hard cap, backup codes, bad input."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import time_machine
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import lockout
from mfa_oauth.backup_codes import hashing
from mfa_oauth.backup_codes.flows import generate
from mfa_oauth.backup_codes.models import BackupCode, BackupCodeDevice
from mfa_oauth.models import UserMFAState
from tests.conftest import totp_for
from tests.oauth import login

pytestmark = pytest.mark.django_db
NOW = "2026-03-01 12:00:00Z"


def submit(client, device, token, next_url="/"):
    return client.post(
        "/mfa/verify/?" + urlencode({"next": next_url}),
        {"device": device.persistent_id, "token": token, "action": "verify", "next": next_url},
    )


def verified(client) -> bool:
    return "otp_device_id" in client.session


def code_at(device, offset_steps: int) -> str:
    totp = totp_for(device)
    return totp.at(totp.timecode(__import__("datetime").datetime.now()) * 30 + offset_steps * 30)


@pytest.fixture
def logged_in(client, user):
    login(client)
    return client


@time_machine.travel(NOW, tick=False)
def test_correct_code_verifies_and_resets_the_counter(logged_in, totp_device, user):
    assert submit(logged_in, totp_device, "000000").status_code == 200
    totp_device.refresh_from_db()
    totp_device.throttle_reset()
    assert lockout.failure_count(user) == 1
    response = submit(logged_in, totp_device, totp_for(totp_device).now())
    assert response.status_code == 303 and verified(logged_in)
    assert lockout.failure_count(user) == 0


@time_machine.travel(NOW, tick=False)
def test_wrong_code_is_refused_with_a_clear_message(logged_in, totp_device):
    response = submit(logged_in, totp_device, "123456")
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert not verified(logged_in)


@time_machine.travel(NOW, tick=False)
def test_replayed_code_is_refused(client, user, totp_device):
    code = totp_for(totp_device).now()
    login(client)
    assert submit(client, totp_device, code).status_code == 303
    other = client.__class__()
    login(other)
    assert submit(other, totp_device, code).status_code == 200
    assert not verified(other)


@time_machine.travel(NOW, tick=False)
def test_code_two_steps_old_is_refused_and_one_step_old_accepted(logged_in, totp_device):
    assert submit(logged_in, totp_device, code_at(totp_device, -2)).status_code == 200
    totp_device.refresh_from_db()
    totp_device.throttle_reset()
    assert submit(logged_in, totp_device, code_at(totp_device, -1)).status_code == 303


@time_machine.travel(NOW, tick=False)
def test_older_step_after_newer_is_refused(client, user, totp_device):
    login(client)
    assert submit(client, totp_device, code_at(totp_device, 0)).status_code == 303
    other = client.__class__()
    login(other)
    assert submit(other, totp_device, code_at(totp_device, -1)).status_code == 200
    assert not verified(other)


@time_machine.travel(NOW, tick=False)
def test_throttled_device_refuses_the_correct_code_and_says_when(logged_in, totp_device):
    submit(logged_in, totp_device, "000000")
    submit(logged_in, totp_device, "000001")  # inside the back-off window: not even evaluated
    response = submit(logged_in, totp_device, totp_for(totp_device).now())
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Try again in" in response.content.decode()
    assert not verified(logged_in)


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
@time_machine.travel(NOW, tick=False)
def test_lock_after_the_cap_refuses_even_the_correct_code(logged_in, totp_device, user, mailoutbox):
    cap = 10
    for i in range(cap):
        submit(logged_in, totp_device, f"{i:06d}")
    assert lockout.failure_count(user) == cap
    assert UserMFAState.objects.get(user=user).locked_at is not None
    response = submit(logged_in, totp_device, totp_for(totp_device).now())
    assert response.status_code == 403
    assert "locked" in response.content.decode()
    assert not verified(logged_in)
    lockout.unlock(user)
    assert submit(logged_in, totp_device, totp_for(totp_device).now()).status_code == 303


@override_settings(MFA_OAUTH={"MAX_FAILED_ATTEMPTS": 1000})
def test_cap_setting_is_bounded_by_nist():
    from mfa_oauth.conf import settings as mfa_settings

    assert mfa_settings.MAX_FAILED_ATTEMPTS == 100


@pytest.mark.parametrize("token", ["abcdef", "1" * 50, "", "١٢٣٤٥٦", "12 34 5", "<script>", "12345"])
@time_machine.travel(NOW, tick=False)
def test_malformed_codes_get_a_clear_message_never_a_500(logged_in, totp_device, token, user):
    response = submit(logged_in, totp_device, token)
    assert response.status_code == 200
    assert "does not look like a code" in response.content.decode()
    assert lockout.failure_count(user) == 0


@time_machine.travel(NOW, tick=False)
def test_device_of_another_user_is_refused(logged_in, totp_device, django_user_model):
    mallory = django_user_model.objects.create_user("mallory", password="x" * 12)
    foreign = TOTPDevice.objects.create(user=mallory, name="m", confirmed=True)
    response = submit(logged_in, foreign, totp_for(foreign).now())
    assert response.status_code == 400
    assert "your own" in response.content.decode()
    assert not verified(logged_in)


@pytest.mark.parametrize("device_id", ["", "x" * 300, "otp_totp.totpdevice/99999", "nonsense"])
def test_junk_device_ids_are_refused(logged_in, totp_device, device_id):
    response = logged_in.post("/mfa/verify/", {"device": device_id, "token": "123456", "action": "verify"})
    assert response.status_code == 400


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_tampered_next_lands_on_the_default_page(client, user, evil):
    codes = generate(user)
    device = BackupCodeDevice.objects.get(user=user)
    login(client)
    response = client.post(
        "/mfa/verify/?" + urlencode({"next": evil}), {"device": device.persistent_id, "token": codes[0], "next": evil}
    )
    assert response.status_code == 303
    assert response["Location"] == "/"


def test_login_refuses_a_tampered_next(client, user):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "correct horse battery staple", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_verify_page_requires_login(client):
    response = client.get("/mfa/verify/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- backup codes ---------------------------------------------------------------------------


def test_backup_codes_are_strong_hashed_and_distinct(user):
    codes = generate(user)
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 20 and set(raw) <= set("abcdefghijklmnopqrstuvwxyz234567")
    stored = list(BackupCode.objects.values_list("hash", flat=True))
    assert all(c.replace("-", "")[4:] not in h for c in codes for h in stored)
    assert len({h.split("$")[2] for h in stored}) == 10  # per-code salts


def test_backup_code_works_once(client, user):
    codes = generate(user)
    device = BackupCodeDevice.objects.get(user=user)
    login(client)
    assert submit(client, device, codes[3].upper()).status_code == 303
    other = client.__class__()
    login(other)
    response = submit(other, device, codes[3])
    assert response.status_code == 200 and not verified(other)


def test_regenerated_set_invalidates_the_old_one(client, user):
    old = generate(user)
    generate(user)
    device = BackupCodeDevice.objects.get(user=user)
    login(client)
    assert submit(client, device, old[0]).status_code == 200


def test_backup_code_check_costs_at_most_one_hash(client, user, monkeypatch):
    codes = generate(user)
    device = BackupCodeDevice.objects.get(user=user)
    calls = []
    original = hashing.HASHER.verify
    monkeypatch.setattr(hashing.HASHER, "verify", lambda *a: calls.append(1) or original(*a))
    login(client)
    submit(client, device, "aaaa-bbbb-cccc-dddd-eeee")
    assert len(calls) == 1
    device.refresh_from_db()
    device.throttle_reset()
    submit(client, device, codes[0])
    assert len(calls) == 2


def test_backup_code_amr_is_otp(client, application, user):
    from tests.oauth import AuthorizationRequest, callback_params, consent, jwt_payload, redeem

    codes = generate(user)
    device = BackupCodeDevice.objects.get(user=user)
    request = AuthorizationRequest()
    login(client, next_url=request.url())
    submit(client, device, codes[0], next_url=request.url())
    params = callback_params(consent(client, request))
    claims = jwt_payload(redeem(client, params["code"], request).json()["id_token"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]
