"""A code that cannot reach a broker is reported as not sent, never as "We sent a code".

Two real-Celery cases (no mock of Celery or kombu): a broker URL where nothing listens (the
connection is refused), and no broker configured at all, Celery's default ``amqp://guest@localhost//``
(a project that never created a Celery app; check mfa_oauth.E065). In both the row stays queued,
so the sweep publishes it once a broker is there.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.checks import run_checks
from django.core.management import call_command
from django.utils import timezone

from mfa_oauth.sms.models import SMSMessage

from .conftest import ask_for_code, celery_broker, log_in, page_text

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

NOT_SENT = "We could not send the text message right now"


def _refusing_port() -> int:
    """A local port nothing listens on (bound, then closed: connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _assert_not_sent(page) -> SMSMessage:
    text = page_text(page)
    assert page.status_code == 429
    assert NOT_SENT in text and "use another factor" in text
    assert "We sent a code" not in text
    message = SMSMessage.objects.get()
    assert message.status == "queued" and message.sealed_code  # kept for the sweep
    return message


def test_broker_refusing_connections_is_reported_as_not_sent(client, user, sms_device, twilio_settings):
    log_in(client, user)
    with celery_broker(f"amqp://guest:guest@127.0.0.1:{_refusing_port()}//"):
        started = time.monotonic()
        page = ask_for_code(client, sms_device)
        assert time.monotonic() - started < 5  # publishing gives up fast (PUBLISH_RETRY_POLICY)
        _assert_not_sent(page)


def test_no_broker_configured_is_reported_as_not_sent_and_the_check_names_it(client, user, sms_device, twilio_settings):
    log_in(client, user)
    with celery_broker(None) as app:  # Celery's default: amqp://guest@localhost//
        assert app.conf.broker_url is None and not app.conf.task_always_eager
        assert [m.id for m in run_checks() if m.id == "mfa_oauth.E065"] == ["mfa_oauth.E065"]
        message = _assert_not_sent(ask_for_code(client, sms_device))
        out = StringIO()
        with time_machine.travel(timezone.now() + timedelta(seconds=25), tick=True):
            call_command("sms_sweep", stdout=out)
        # Still no broker: the sweep does not pretend either; the row waits.
        assert "requeued=0" in out.getvalue() and "broker_down=1" in out.getvalue()
        assert SMSMessage.objects.get(pk=message.pk).status == "queued"
    assert not [m for m in run_checks() if m.id == "mfa_oauth.E065"]  # the suite's eager app is configured
