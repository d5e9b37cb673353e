"""What "send me a code" costs in statements: the lock state is read once (docs/benchmarks.md).

The factor refuses to text a locked account and the page it answers with shows the lock notice; both
ask for the user's lock state, which sending does not change (``mfa_oauth.lockout.read_once``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mfa_oauth import lockout
from mfa_oauth.models import UserMFAState

from .conftest import ask_for_code, log_in

pytestmark = pytest.mark.django_db


def lock_state_reads(queries) -> int:
    table = re.escape(connection.ops.quote_name("mfa_oauth_usermfastate"))
    return sum(1 for q in queries if re.search(rf"FROM {table}", q["sql"]))


def test_sending_a_code_reads_the_lock_state_once(
    client, user, sms_device, locmem_sms, django_capture_on_commit_callbacks
):
    log_in(client, user)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        page = ask_for_code(client, sms_device)
    assert page.status_code == 200 and "We sent a code" in page.content.decode()
    assert len(locmem_sms) == 1
    assert lock_state_reads(queries.captured_queries) == 1


def test_a_locked_account_gets_no_text_and_the_page_shows_the_lock_from_the_same_read(
    client, user, sms_device, locmem_sms
):
    log_in(client, user)
    now = timezone.now()
    UserMFAState.objects.update_or_create(
        user=user,
        defaults={
            "failure_count": 5,
            "total_failures": 5,
            "lock_level": 1,
            "locked_at": now,
            "locked_until": now + timedelta(hours=1),
        },
    )
    with CaptureQueriesContext(connection) as queries:
        page = ask_for_code(client, sms_device)
    assert page.status_code == 429
    body = page.content.decode()
    assert "No code was sent." in body and 'id="mfa-locked"' in body
    assert locmem_sms == []
    assert lock_state_reads(queries.captured_queries) == 1


def test_outside_its_block_every_call_reads_again(user):
    with CaptureQueriesContext(connection) as queries:
        lockout.state(user)
        lockout.state(user)
        with lockout.read_once():
            lockout.state(user)
            lockout.state(user)
    assert lock_state_reads(queries.captured_queries) == 3
