"""Fixtures for the SMS factor: the fake Twilio, Twilio settings, a real Celery worker on Redis."""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError

from mfa_oauth.sms.models import SMSDevice
from tests.conftest import PASSWORD
from tests.services import require_redis

from .fake_twilio import FakeTwilio

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "fake-auth-token-" + "0" * 16
FROM_NUMBER = "+12025550100"
PUBLIC_BASE = "https://idp.example.com"
NUMBER = "+12025550123"  # fictional 555-01xx, valid for phonenumbers
# Redis databases given to the SMS tests (the broker and the result backend); overridable so runs
# that share one Redis (parallel checkouts) can each take their own (one may serve as both).
BROKER_DB = int(os.environ.get("MFA_TEST_SMS_BROKER_DB", "1"))
RESULTS_DB = int(os.environ.get("MFA_TEST_SMS_RESULTS_DB", "2"))


@pytest.fixture
def fake_twilio():
    server = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()


def twilio_overrides(base_url: str) -> dict:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_BASE_URL": base_url,
        "SMS_PUBLIC_BASE_URL": PUBLIC_BASE,
        "SMS_SITE_NAME": "Example IdP",
        "SMS_ALLOWED_COUNTRIES": ("GB", "US"),
        "SMS_HTTP_TIMEOUT": 3,
    }


@pytest.fixture
def mfa_settings(settings):
    """Change MFA_OAUTH keys for one test: ``mfa_settings(SMS_COOLDOWN=0)``."""

    def update(**values):
        settings.MFA_OAUTH = {**settings.MFA_OAUTH, **values}

    return update


@pytest.fixture
def twilio_settings(mfa_settings, fake_twilio):
    mfa_settings(**twilio_overrides(fake_twilio.url))
    return fake_twilio


@pytest.fixture
def sms_device(user) -> SMSDevice:
    return SMSDevice.objects.create(user=user, name="Phone", number=NUMBER, confirmed=True)


def log_in(client, user) -> None:
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


def ask_for_code(client, device, next_url: str = "/"):
    return client.post(f"/mfa/verify/?next={next_url}", {"device": device.persistent_id, "action": "send"})


def type_code(client, device, code: str, next_url: str = "/"):
    return client.post(f"/mfa/verify/?next={next_url}", {"device": device.persistent_id, "token": code})


def code_in(body: str) -> str:
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Poll ``predicate`` (which may read the database the worker thread writes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OperationalError:  # SQLite shared cache: "table is locked" while the worker writes
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


# --- Celery on the real Redis broker (RECIPES.md §5) ---------------------------------------------
def _reset_connections(app) -> None:
    from kombu import pools

    # kombu keeps pools in a process-wide registry; drop them all so the next publish connects
    # to the broker configured now.
    pools.reset()
    app._pool = None
    try:
        app.__dict__["amqp"]._producer_pool = None
    except KeyError:
        pass


@contextmanager
def celery_broker(broker_url: str, results_url: str | None = None, **conf):
    """Point the site's Celery app at a real broker (not eager) for the duration."""
    from idp_site.celery import app

    keys = ["broker_url", "result_backend", "task_always_eager", "broker_transport_options", *conf]
    saved = {key: app.conf.get(key) for key in keys}
    app.conf.update(
        broker_url=broker_url,
        result_backend=results_url or broker_url,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": 900, "socket_connect_timeout": 1, "socket_timeout": 5},
        **conf,
    )
    _reset_connections(app)
    try:
        yield app
    finally:
        _reset_connections(app)
        app.conf.update(saved)


@contextmanager
def running_worker(app):
    from celery.contrib.testing.worker import start_worker

    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=15) as worker:
        yield worker


@pytest.fixture
def redis_broker(shared_memory_db_tolerates_threads):
    """The real Redis broker on this test's own database, emptied first, Celery pointed at it."""
    import redis

    broker = require_redis(BROKER_DB)
    results = require_redis(RESULTS_DB)
    redis.Redis.from_url(broker).flushdb()
    with celery_broker(broker, results) as app:
        yield app
    redis.Redis.from_url(broker).flushdb()


class LazyWorker:
    def __init__(self, app):
        self.app = app
        self._running = None

    def start(self) -> None:
        self._running = running_worker(self.app)
        self._running.__enter__()

    def stop(self) -> None:
        if self._running is not None:
            self._running.__exit__(None, None, None)
            self._running = None


@pytest.fixture
def celery_worker(redis_broker):
    """A real worker thread on the real broker, started by the test (``celery_worker.start()``)
    once the request that publishes is over.

    The test database is in-memory SQLite in shared-cache mode, where a connection that meets
    another thread's write lock fails at once ("database table is locked") instead of waiting as
    a file database or PostgreSQL would; so the worker and the test client take turns."""
    worker = LazyWorker(redis_broker)
    yield worker
    worker.stop()


@pytest.fixture
def locmem_sms(mfa_settings):
    """The in-memory gateway (Celery eager, the default of the test settings)."""
    from mfa_oauth.sms.gateways import locmem

    mfa_settings(SMS_BACKEND="locmem", SMS_SITE_NAME="Example IdP", SMS_ALLOWED_COUNTRIES=("GB", "US"))
    locmem.clear()
    yield locmem.outbox
    locmem.clear()
