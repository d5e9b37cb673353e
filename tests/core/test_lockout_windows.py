"""Second-factor locks end by themselves (docs/security.md, "Second-factor lockout").

A guesser who knows the password must not be able to lock the owner out until an administrator
acts (NIST SP 800-63B-4 §3.2.2): reaching the cap locks the code factors for an escalating window
(defaults 15 min, 1 h, 4 h, 24 h, ...), the owner is e-mailed the end of each window, a success
resets everything, and the total of consecutive failures still never passes the NIST ceiling of 100.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.test import Client

from mfa_oauth import lockout
from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.models import UserMFAState
from tests.account.helpers import give_mfa, make_staff
from tests.conftest import totp_for
from tests.oauth import login

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt_timezone.utc)
CAP = 3
MINUTE, HOUR = 60, 3600


@pytest.fixture(autouse=True)
def small_cap(settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": CAP}
    # No django-otp back-off: every attempt reaches the per-user counter.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def submit(client, device, token):
    return client.post("/mfa/verify/", {"device": device.persistent_id, "token": token, "action": "verify"})


def right_code(device) -> str:
    return totp_for(device).now()


def wrong_code(device) -> str:
    totp = totp_for(device)
    now = datetime.now(dt_timezone.utc).timestamp()
    valid = {totp.at(now + 30 * drift) for drift in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


def fresh_session() -> Client:
    """A new password-only session (a real login), as after any long wait."""
    client = Client()
    assert login(client).status_code == 302
    return client


def fail(device, times: int) -> Client:
    client = fresh_session()
    for _ in range(times):
        response = submit(client, device, wrong_code(device))
        assert response.status_code in (200, 403)
    return client


def locked_until(user):
    return UserMFAState.objects.get(user=user).locked_until


# --- the reproduction: today a lock never ends -------------------------------------------------


def test_the_lock_ends_after_its_window(totp_device, user, clock):
    fail(totp_device, CAP)
    client = fresh_session()
    assert submit(client, totp_device, right_code(totp_device)).status_code == 403
    clock.shift(15 * MINUTE - 1)
    client = fresh_session()
    assert submit(client, totp_device, right_code(totp_device)).status_code == 403  # not a second early
    clock.shift(1)
    client = fresh_session()
    assert submit(client, totp_device, right_code(totp_device)).status_code == 303
    assert "otp_device_id" in client.session


# --- escalation, restart, reset ---------------------------------------------------------------


def test_windows_escalate_while_the_guessing_goes_on(totp_device, user, clock):
    for window in (15 * MINUTE, HOUR, 4 * HOUR, 24 * HOUR, 24 * HOUR):  # the last default repeats
        started = datetime.now(dt_timezone.utc)
        fail(totp_device, CAP)
        assert lockout.is_locked(user)
        assert locked_until(user) == started + timedelta(seconds=window)
        clock.shift(window - 1)
        assert lockout.is_locked(user)
        assert submit(fresh_session(), totp_device, right_code(totp_device)).status_code == 403
        clock.shift(1)
        assert not lockout.is_locked(user)


def test_after_a_window_the_count_restarts_but_the_level_is_remembered(totp_device, user, clock):
    fail(totp_device, CAP)
    clock.shift(15 * MINUTE)
    assert lockout.failure_count(user) == 0
    fail(totp_device, CAP - 1)
    assert not lockout.is_locked(user) and lockout.failure_count(user) == CAP - 1
    fail(totp_device, 1)
    # The second lock since the last success: the second window.
    assert locked_until(user) == datetime.now(dt_timezone.utc) + timedelta(hours=1)


def test_a_success_resets_the_count_and_the_escalation(totp_device, user, clock):
    fail(totp_device, CAP)
    clock.shift(15 * MINUTE)
    fail(totp_device, CAP)
    clock.shift(HOUR)
    client = fresh_session()
    assert submit(client, totp_device, right_code(totp_device)).status_code == 303
    state = UserMFAState.objects.get(user=user)
    assert (state.failure_count, state.lock_level, state.total_failures) == (0, 0, 0)
    assert state.locked_at is None and state.locked_until is None
    clock.shift(60)  # a new TOTP step
    fail(totp_device, CAP)
    assert locked_until(user) == datetime.now(dt_timezone.utc) + timedelta(minutes=15)  # back to the first


def test_consecutive_failures_never_pass_the_nist_ceiling(totp_device, user, clock, settings):
    """NIST SP 800-63B-4 §3.2.2: at most 100 consecutive failures, windows or not. The lock that
    reaches 100 has no end; only a success with a factor that stays usable, or an operator, ends it."""
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 50}
    fail(totp_device, 50)
    clock.shift(15 * MINUTE)
    client = fail(totp_device, 50)
    state = UserMFAState.objects.get(user=user)
    assert state.total_failures == 100 and state.locked_until is None and lockout.is_locked(user)
    clock.shift(365 * 24 * HOUR)
    client = fresh_session()
    response = submit(client, totp_device, right_code(totp_device))
    assert response.status_code == 403 and "administrator" in response.content.decode()
    assert UserMFAState.objects.get(user=user).total_failures == 100  # the refused code was not counted


# --- the operator can still unlock at once ------------------------------------------------------


def test_admin_unlock_ends_the_window_and_the_escalation(totp_device, user, clock):
    fail(totp_device, CAP)
    clock.shift(15 * MINUTE)
    fail(totp_device, CAP)  # second lock: one hour
    staff = make_staff()
    admin = Client()
    give_mfa(admin, staff, totp_device.__class__.objects.create(user=staff, name="admin", confirmed=True))
    assert admin.post(f"/admin/auth/user/{user.pk}/mfa/unlock/").status_code == 302
    assert not lockout.is_locked(user)
    state = UserMFAState.objects.get(user=user)
    assert (state.failure_count, state.lock_level, state.total_failures, state.locked_until) == (0, 0, 0, None)
    fail(totp_device, CAP)
    assert locked_until(user) == datetime.now(dt_timezone.utc) + timedelta(minutes=15)


# --- the owner is told, the page says until when ------------------------------------------------


def test_each_new_lock_emails_the_owner_with_its_end(totp_device, user, clock, mailoutbox):
    fail(totp_device, CAP)
    assert len(mailoutbox) == 1
    first = mailoutbox[0]
    assert first.to == ["alice@example.com"]
    assert "2026-03-01 12:15 UTC" in first.body
    assert "passkey" not in first.body  # alice has no factor that still works: nothing promised
    clock.shift(15 * MINUTE)
    fail(totp_device, CAP)
    assert len(mailoutbox) == 2
    assert "2026-03-01 13:15 UTC" in mailoutbox[1].body
    events = AuthEvent.objects.filter(kind=EventKind.LOCKED).order_by("pk")
    assert [e.detail["locked_until"] for e in events] == ["2026-03-01T12:15:00+00:00", "2026-03-01T13:15:00+00:00"]


def test_a_refused_attempt_during_a_lock_sends_no_more_mail(totp_device, user, clock, mailoutbox):
    fail(totp_device, CAP + 5)
    assert len(mailoutbox) == 1


def test_the_challenge_page_says_the_codes_are_locked_and_until_when(totp_device, user, clock):
    fail(totp_device, CAP)
    client = fresh_session()
    page = client.get("/mfa/verify/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="mfa-locked"' in text and "locked until" in text and "12:15" in text
    assert 'id="mfa-verify-form"' not in text  # no code form while codes cannot be checked
    refused = submit(client, totp_device, right_code(totp_device))
    assert refused.status_code == 403
    assert "locked until" in refused.content.decode() and "12:15" in refused.content.decode()
    assert "otp_device_id" not in client.session


def test_a_window_that_ended_shows_the_normal_page_again(totp_device, user, clock):
    fail(totp_device, CAP)
    clock.shift(15 * MINUTE)
    text = fresh_session().get("/mfa/verify/").content.decode()
    assert 'id="mfa-locked"' not in text and 'id="mfa-verify-form"' in text


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("windows", [[], [900, 0], "900", [900, 1.5], [True], None])
def test_unusable_windows_are_a_system_check_error_and_fall_back_to_the_defaults(settings, windows):
    from mfa_oauth.checks import check_lockout
    from mfa_oauth.conf import DEFAULTS

    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "LOCKOUT_WINDOWS": windows}
    assert "mfa_oauth.E030" in [m.id for m in check_lockout(None)]
    assert lockout.windows() == tuple(DEFAULTS["LOCKOUT_WINDOWS"])  # never a lock without an end


def test_custom_windows_are_used_and_the_last_one_repeats(settings):
    from mfa_oauth.checks import check_lockout

    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "LOCKOUT_WINDOWS": [60, 120]}
    assert check_lockout(None) == []
    assert [lockout.window(n).total_seconds() for n in (1, 2, 3, 9)] == [60, 120, 120, 120]


def test_passkey_setting_must_be_a_boolean_and_a_cap_of_100_is_warned_about(settings):
    from mfa_oauth.checks import check_lockout

    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "PASSKEY_USABLE_WHILE_LOCKED": "no", "MAX_FAILED_ATTEMPTS": 100}
    assert {m.id for m in check_lockout(None)} == {"mfa_oauth.E031", "mfa_oauth.W030"}


def test_a_locked_user_whose_device_is_also_throttled_is_told_about_the_lock(totp_device, user, clock, settings):
    fail(totp_device, CAP)
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600  # django-otp's own back-off now runs for an hour
    totp_device.refresh_from_db()
    assert not totp_device.verify_is_allowed()[0]
    response = submit(fresh_session(), totp_device, right_code(totp_device))
    assert response.status_code == 403 and "locked until" in response.content.decode()
