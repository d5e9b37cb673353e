"""Redis down when the code is asked for: a clear message, the row stays queued; Redis back, the
sweep re-enqueues it and the worker sends it (docs/security.md, "SMS delivery").

The shared Redis on 6379 serves other tests, so this test stops and restarts a Redis server of
its own (the same redis-server binary) on a free port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from mfa_oauth.sms.models import SMSMessage
from tests.services import missing

from .conftest import ask_for_code, celery_broker, code_in, log_in, page_text, running_worker, type_code, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


class OwnRedis:
    def __init__(self, tmp_path):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            missing("redis-server is not installed (apt-get install redis-server)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tmp_path
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_broker_down_then_back_and_the_sweep_sends(
    client, user, sms_device, twilio_settings, own_redis, shared_memory_db_tolerates_threads
):
    fake = twilio_settings
    log_in(client, user)
    with celery_broker(own_redis.url) as app:
        own_redis.stop()
        started = time.monotonic()
        page = ask_for_code(client, sms_device)
        assert time.monotonic() - started < 5  # the user is not kept waiting on a dead broker
        assert page.status_code == 429
        assert "We could not send the text message right now" in page_text(page)
        assert "use another factor" in page_text(page)
        message = SMSMessage.objects.get()
        assert message.status == "queued" and message.sealed_code

        own_redis.start()
        out = StringIO()
        with time_machine.travel(timezone.now() + timedelta(seconds=25), tick=True):
            call_command("sms_sweep", stdout=out)
        assert "requeued=1" in out.getvalue()
        with running_worker(app):
            [request] = fake.wait_for_creates(1)
            wait_until(lambda: SMSMessage.objects.filter(pk=message.pk, status="sent").exists())
    assert type_code(client, sms_device, code_in(request.form["Body"])).status_code == 303
