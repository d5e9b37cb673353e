"""Concurrency on PostgreSQL (SECURITY.md A2, B-replay): real parallel requests, each thread with its
own database connection, through the challenge view and ``mfa_oauth.verify.flows.verify``.

Runs when the suite itself is on PostgreSQL (CI's PostgreSQL leg:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/idp_prod make test PYTEST_ARGS="-m postgres"``).
"""

from __future__ import annotations

import threading
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
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 100}
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
