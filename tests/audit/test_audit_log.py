"""Every authentication event writes exactly one audit row, without secrets; admin is read-only."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.dispatch import receiver
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import signals
from mfa_oauth.audit.models import AuthEvent, EventKind
from tests.account.helpers import give_mfa, login, make_staff, verify_totp
from tests.conftest import CLIENT_SECRET, PASSWORD, REDIRECT_URI, totp_for


def _kinds() -> list[str]:
    return list(AuthEvent.objects.order_by("pk").values_list("kind", flat=True))


def test_login_success_and_failure(client, user):
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, HTTP_USER_AGENT="UA/1")
    client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    login(client, user)
    failed, unknown, ok = AuthEvent.objects.order_by("pk")
    assert (failed.kind, failed.user, failed.username, failed.ip) == (
        EventKind.LOGIN_FAILED,
        user,
        "alice",
        "127.0.0.1",
    )
    assert failed.user_agent == "UA/1"
    assert (unknown.kind, unknown.user, unknown.username) == (EventKind.LOGIN_FAILED, None, "nobody")
    assert (ok.kind, ok.user, ok.actor, ok.amr) == (EventKind.LOGIN_SUCCEEDED, user, user, ["pwd"])
    assert "wrong" not in json.dumps(list(AuthEvent.objects.values()), default=str)


def test_second_factor_failure_success_and_no_code_in_the_log(client, totp_device):
    user = totp_device.user
    login(client, user)
    client.post("/mfa/verify/", {"device": totp_device.persistent_id, "token": "123456"})
    TOTPDevice.objects.filter(pk=totp_device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    code = totp_for(totp_device).now()
    verify_totp(client, totp_device)
    assert _kinds() == [EventKind.LOGIN_SUCCEEDED, EventKind.MFA_FAILED, EventKind.MFA_SUCCEEDED]
    failed = AuthEvent.objects.get(kind=EventKind.MFA_FAILED)
    assert (failed.method, failed.device, failed.detail) == ("totp", totp_device.persistent_id, {"failure_count": 1})
    success = AuthEvent.objects.get(kind=EventKind.MFA_SUCCEEDED)
    assert success.acr == "urn:mfa_oauth:acr:mfa" and success.amr == ["pwd", "otp", "mfa"]
    dump = json.dumps(list(AuthEvent.objects.values()), default=str)
    assert code not in dump and "123456" not in dump and totp_device.key not in dump
    assert base64.b32encode(totp_device.bin_key).decode().rstrip("=") not in dump


def test_lockout_writes_one_row_and_one_email(client, totp_device, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 3}
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    login(client, totp_device.user)
    for _ in range(3):
        client.post("/mfa/verify/", {"device": totp_device.persistent_id, "token": "000000"})
    assert AuthEvent.objects.filter(kind=EventKind.MFA_FAILED).count() == 3
    locked = AuthEvent.objects.get(kind=EventKind.LOCKED)
    assert {k: locked.detail[k] for k in ("failure_count", "level")} == {"failure_count": 3, "level": 1}
    assert datetime.fromisoformat(locked.detail["locked_until"]) > timezone.now()  # a timed lock (first window)
    assert [m.subject for m in mail.outbox] == ["mfa_oauth reference IdP: your second factor is locked"]
    assert "3 wrong codes" in mail.outbox[0].body


def test_challenge_sent_is_recorded(rf, totp_device):
    request = rf.post("/mfa/verify/", REMOTE_ADDR="203.0.113.9")
    request.user = totp_device.user
    signals.challenge_sent.send(
        sender=TOTPDevice, request=request, user=totp_device.user, device=totp_device, method="sms"
    )
    event = AuthEvent.objects.get()
    assert (event.kind, event.method, event.ip, event.actor) == (
        EventKind.CHALLENGE_SENT,
        "sms",
        "203.0.113.9",
        totp_device.user,
    )


def test_tokens_issued_with_client_acr_and_amr(client, totp_device, make_application):
    user = totp_device.user
    make_application(mfa_mode="always", skip_authorization=True, client_id="bank")
    login(client, user)
    verify_totp(client, totp_device)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {
        "response_type": "code",
        "client_id": "bank",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
    }
    response = client.get("/o/authorize/", params)
    assert response.status_code == 302, response.content[:500]
    code = parse_qs(urlparse(response["Location"]).query)["code"][0]
    token = client.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"bank:{CLIENT_SECRET}".encode()).decode(),
    )
    assert token.status_code == 200, token.content
    event = AuthEvent.objects.get(kind=EventKind.TOKENS_ISSUED)
    assert (event.user, event.client_id, event.acr) == (user, "bank", "urn:mfa_oauth:acr:mfa")
    assert event.amr == ["pwd", "otp", "mfa"]
    assert token.json()["access_token"] not in json.dumps(list(AuthEvent.objects.values()), default=str)


def test_events_are_forwarded_through_a_signal(user):
    seen = []

    @receiver(signals.audit_event_recorded)
    def forward(sender, event, **kwargs):
        seen.append((event.kind, event.username))

    try:
        signals.second_factor_unlocked.send(sender=type(user), request=None, user=user, unlocked_by=None)
    finally:
        signals.audit_event_recorded.disconnect(forward)
    assert seen == [(EventKind.UNLOCKED, "alice")]


@pytest.fixture
def staff_client(client, db):
    staff = make_staff()
    device = TOTPDevice.objects.create(user=staff, name="admin phone", confirmed=True)
    give_mfa(client, staff, device)
    return client


def test_admin_lists_filters_and_searches_read_only(staff_client, user):
    staff_client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    base = "/admin/mfa_oauth_audit/authevent/"
    page = staff_client.get(base)
    assert page.status_code == 200 and "alice" in page.content.decode()
    assert staff_client.get(base, {"kind__exact": "login_failed"}).status_code == 200
    found = staff_client.get(base, {"q": "alice"})
    assert found.status_code == 200 and "Login (password) failed" in found.content.decode()
    event = AuthEvent.objects.filter(kind=EventKind.LOGIN_FAILED).first()
    assert staff_client.get(base + "add/").status_code == 403
    detail = staff_client.get(f"{base}{event.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    staff_client.post(f"{base}{event.pk}/delete/", {"post": "yes"})
    assert AuthEvent.objects.filter(pk=event.pk).exists()


def test_audit_admin_is_refused_to_non_staff(client, user):
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    response = client.get("/admin/mfa_oauth_audit/authevent/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
