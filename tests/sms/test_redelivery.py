"""A worker killed with SIGKILL in the middle of a send: the broker redelivers the task to a new
worker, which finds the dead worker's request already reached Twilio and sends nothing more
(docs/security.md, "SMS delivery"). Separate processes, because the kill must take the whole worker down."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.services import require_redis

from .conftest import ACCOUNT_SID, AUTH_TOKEN, BROKER_DB, FROM_NUMBER, RESULTS_DB, wait_until
from .fake_twilio import Reply

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.celery]


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "idp_site", "worker", "-P", "solo", "-c", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def row(db: Path, message_id: int) -> tuple:
    with sqlite3.connect(db, timeout=5) as conn:
        return conn.execute(
            "SELECT status, provider_sid, attempts FROM mfa_oauth_sms_smsmessage WHERE id = ?", [message_id]
        ).fetchone()


def test_worker_killed_mid_send_is_redelivered_and_one_sms_goes_out(fake_twilio, tmp_path):
    broker = require_redis(BROKER_DB)
    redis.Redis.from_url(broker).flushdb()
    db = tmp_path / "idp.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sms.worker_settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "IDP_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": require_redis(RESULTS_DB),
        "MFA_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    queued = subprocess.run(
        [sys.executable, "-m", "tests.sms.redelivery_scenario"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    message_id = int(queued.stdout.decode().strip().splitlines()[-1])

    # Twilio takes the request, then is slow to answer: the worker dies while waiting.
    fake_twilio.script(Reply(201, delay=20))
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    try:
        fake_twilio.wait_for_creates(1, timeout=20)
        assert row(db, message_id)[0] == "sending"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        killed_at = time.monotonic()
        second = start_worker(env, log)
        try:
            status, sid, attempts = wait_until(lambda: (r := row(db, message_id)) and r[0] == "sent" and r, timeout=30)
            redelivered_after = time.monotonic() - killed_at
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        redis.Redis.from_url(broker).flushdb()
    assert len(fake_twilio.creates) == 1, log.read_text()[-3000:]
    assert sid == fake_twilio.messages[0]["sid"]
    assert attempts == 2  # claimed by the dead worker, taken over by the second
    # The second worker asked Twilio whether the first one's request had got through.
    assert [r.query.get("To") for r in fake_twilio.requests if r.method == "GET"] == ["+12025550123"]
    assert redelivered_after < 25
