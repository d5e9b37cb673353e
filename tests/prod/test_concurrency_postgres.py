"""Concurrency on PostgreSQL (docs/security.md, "Second-factor lockout", Concurrency; a code is used
once, RFC 6238 §5.2): real parallel requests, each thread with its own database connection, through
the challenge view and ``mfa_oauth.verify.flows.verify``.

Runs when the suite itself is on PostgreSQL (CI's PostgreSQL leg:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/idp_prod make test PYTEST_ARGS="-m postgres"``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.models import UserMFAState
from tests.conftest import PASSWORD, totp_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _on_postgres(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs the suite on PostgreSQL (DATABASE_URL=postgres://...; CI runs it in its PostgreSQL leg)")
    settings.MFA_OAUTH = {
        **settings.MFA_OAUTH,
        "MAX_FAILED_ATTEMPTS": 100,
        # The 50 simultaneous password logins are this module's set-up, not its subject: the password
        # throttle counts attempts in flight before their password is checked (mfa_oauth.throttle),
        # so it would refuse most of them (tests/throttle covers that behaviour).
        "LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES": 0,
        "LOGIN_THROTTLE_IP_FREE_FAILURES": 0,
    }
    # No django-otp back-off: every attempt reaches the per-user counter, as in a storm of guesses
    # spread so thinly over time that the back-off never triggers.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def run_in_parallel(count: int, prepare, act) -> list:
    """``prepare(i)`` in each thread, then all threads ``act`` at the same instant; results in order."""
    barrier = threading.Barrier(count, timeout=60)

    def worker(i: int):
        try:
            state = prepare(i)
            barrier.wait()
            return act(state)
        finally:
            connection.close()  # this thread's own connection; the test DB must be droppable

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def logged_in_client() -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    return client


def wrong_code(device: TOTPDevice) -> str:
    totp = totp_for(device)
    valid = {totp.at(datetime.now(timezone.utc).timestamp() + 30 * drift) for drift in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in valid)


def test_50_concurrent_wrong_codes_count_exactly_50(user, totp_device):
    token = wrong_code(totp_device)
    data = {"device": totp_device.persistent_id, "token": token, "action": "verify"}

    responses = run_in_parallel(50, lambda i: logged_in_client(), lambda client: client.post("/mfa/verify/", data))

    assert [r.status_code for r in responses] == [200] * 50
    assert all(b"That code did not work" in r.content for r in responses)
    state = UserMFAState.objects.get(user=user)
    assert state.failure_count == 50
    assert state.locked_at is None


def test_50_concurrent_wrong_codes_against_a_cap_of_10_start_exactly_one_window(user, totp_device, settings):
    """Timed locks keep the hard cap: of 50 parallel guesses exactly 10 are evaluated and exactly one
    starts the lock (one audit row, one e-mail); after the window the next storm gets 10 more and the
    second, longer window (docs/security.md, "Second-factor lockout")."""
    from datetime import timedelta

    from django.core import mail

    from mfa_oauth.audit.models import AuthEvent, EventKind

    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 10}
    start = datetime(2026, 6, 1, 12, 0, 5, tzinfo=timezone.utc)
    for storm, window in enumerate((timedelta(minutes=15), timedelta(hours=1))):
        at = start + timedelta(minutes=16) * storm  # the second storm comes after the first window
        with time_machine.travel(at, tick=True):
            token = wrong_code(totp_device)
            data = {"device": totp_device.persistent_id, "token": token, "action": "verify"}
            responses = run_in_parallel(
                50, lambda i: logged_in_client(), lambda client, data=data: client.post("/mfa/verify/", data)
            )
        statuses = [r.status_code for r in responses]
        assert statuses.count(200) == 9 and statuses.count(403) == 41, statuses
        assert sum(b"That code did not work" in r.content for r in responses) == 9
        state = UserMFAState.objects.get(user=user)
        assert (state.failure_count, state.total_failures, state.lock_level) == (10, 10 * (storm + 1), storm + 1)
        assert at + window <= state.locked_until <= at + window + timedelta(seconds=30)
        assert AuthEvent.objects.filter(user=user, kind=EventKind.MFA_FAILED).count() == 10 * (storm + 1)
        assert AuthEvent.objects.filter(user=user, kind=EventKind.LOCKED).count() == storm + 1
        assert len(mail.outbox) == storm + 1


def test_one_valid_code_submitted_twice_concurrently_succeeds_once(user, totp_device):
    totp = totp_for(totp_device)
    start = datetime(2026, 6, 1, 12, 0, 5, tzinfo=timezone.utc).timestamp()
    for round_number in range(5):
        now = start + 120 * round_number  # a fresh time step each round
        with time_machine.travel(now, tick=True):
            token = totp.at(now)
            data = {"device": totp_device.persistent_id, "token": token, "action": "verify"}
            responses = run_in_parallel(
                2, lambda i: logged_in_client(), lambda client, data=data: client.post("/mfa/verify/", data)
            )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 303], f"round {round_number}: {statuses}"
        loser = next(r for r in responses if r.status_code == 200)
        assert b"That code did not work" in loser.content
        totp_device.refresh_from_db()
        assert totp_device.last_t == int(now // 30)


# --- the SMS outbox sweep (docs/security.md, "SMS delivery"): two sweeps at once queue each stuck row once -------
SWEEP_REDIS_DB = 10
STUCK_ROWS = 12


def stuck_outbox_rows(user, count: int) -> list[int]:
    """Login codes whose outbox rows stayed ``queued``: the publish after commit was lost."""
    from datetime import timedelta

    from django.utils import timezone

    from mfa_oauth.sms import codes
    from mfa_oauth.sms.models import SMSCode, SMSDevice, SMSMessage

    now = timezone.now()
    asked = now - timedelta(seconds=60)  # older than SMS_SWEEP_GRACE, well inside the code's life
    ids = []
    for i in range(count):
        number = f"+1202555{150 + i:04d}"
        device = SMSDevice.objects.create(user=user, name=f"phone {i}", number=number, confirmed=True)
        code = codes.new_code()
        salt = codes.new_salt()
        row = SMSCode.objects.create(
            device=device,
            attempt=f"attempt-{i}",
            salt=salt,
            digest=codes.digest(code, salt),
            created_at=asked,
            expires_at=asked + timedelta(minutes=5),
        )
        message = SMSMessage.objects.create(
            user=user,
            device=device,
            code=row,
            to=number,
            country="US",
            sealed_code=codes.seal(code),
            created_at=asked,
            expires_at=row.expires_at,
            next_attempt_at=asked,
        )
        ids.append(message.pk)
    return ids


def queued_task_ids(broker_url: str) -> list[int]:
    """The outbox ids carried by the send tasks waiting in the broker's default queue."""
    import ast
    import json

    import redis

    raw = redis.Redis.from_url(broker_url).lrange("celery", 0, -1)
    tasks = [json.loads(item)["headers"] for item in raw]
    assert all(t["task"] == "mfa_oauth.sms.send" for t in tasks), tasks
    return [ast.literal_eval(t["argsrepr"])[0] for t in tasks]


@pytest.mark.redis
def test_two_concurrent_sweeps_never_queue_the_same_sms_twice(user, settings):
    import redis

    from mfa_oauth.sms.delivery import sweep
    from mfa_oauth.sms.models import SMSDevice, SMSMessage
    from tests.services import require_redis
    from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, celery_broker, running_worker, twilio_overrides
    from tests.sms.fake_twilio import FakeTwilio

    broker = require_redis(SWEEP_REDIS_DB)
    redis.Redis.from_url(broker).flushdb()
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, **twilio_overrides(fake.url)}
    try:
        with celery_broker(broker) as app:
            for round_number in range(3):
                SMSMessage.objects.all().delete()
                SMSDevice.objects.filter(user=user).delete()
                ids = stuck_outbox_rows(user, STUCK_ROWS)
                redis.Redis.from_url(broker).delete("celery")

                counts = run_in_parallel(2, lambda i: None, lambda _: sweep())

                # Each stuck row was published by exactly one of the two sweeps.
                assert sorted(queued_task_ids(broker)) == sorted(ids), f"round {round_number}: {counts}"
                assert sum(c["requeued"] for c in counts) == STUCK_ROWS
                assert all(c["broker_down"] == 0 for c in counts)

            # A real worker drains the queue: one Twilio request per row, every row sent.
            with running_worker(app):
                fake.wait_for_creates(STUCK_ROWS, timeout=30)
                deadline = time.monotonic() + 15
                while SMSMessage.objects.exclude(status="sent").exists() and time.monotonic() < deadline:
                    time.sleep(0.1)
            assert len(fake.creates) == STUCK_ROWS
            assert sorted(r.form["To"] for r in fake.creates) == sorted(SMSMessage.objects.values_list("to", flat=True))
            assert set(SMSMessage.objects.values_list("status", flat=True)) == {"sent"}
            assert set(SMSMessage.objects.values_list("attempts", flat=True)) == {1}
    finally:
        fake.stop()
        redis.Redis.from_url(broker).flushdb()


def test_the_lock_state_row_is_locked_only_inside_a_transaction(user):
    from django.db import transaction
    from django.db.transaction import TransactionManagementError
    from django.test.utils import CaptureQueriesContext

    from mfa_oauth import lockout
    from mfa_oauth.verify.flows import _device_under_lock

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert lockout.hold(user) == lockout.LockState()  # the row, created on this first attempt
        assert _device_under_lock.get(device.pk, key=TOTPDevice) == device
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 3 and sum('"mfa_oauth_usermfastate"' in sql for sql in locking) == 2
    # Compiled now, the statements keep the ORM's refusal (mfa_oauth.lookups): outside a transaction
    # FOR UPDATE would hold nothing.
    with pytest.raises(TransactionManagementError):
        lockout.hold(user)
    with pytest.raises(TransactionManagementError):
        _device_under_lock.get(device.pk, key=TOTPDevice)
