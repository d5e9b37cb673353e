"""Expired pushed authorization requests are deleted (RFC 9126 §2.2): ``manage.py
clear_pushed_authorizations`` and the reference site's Celery beat task, against requests pushed through
the live PAR endpoint with requests-oauth2client."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from requests_oauth2client import OAuth2Client

from idp_site import tasks
from mfa_oauth.fapi.models import PushedAuthorization
from mfa_oauth.par import sweep

pytestmark = pytest.mark.django_db(transaction=True)


def _push(client: OAuth2Client, count: int):
    return [client.pushed_authorization_request(client.authorization_request(scope="openid")) for _ in range(count)]


def test_the_command_deletes_only_expired_requests(live_server, oauth):
    expired = _push(oauth, 3)
    PushedAuthorization.objects.update(expires=timezone.now() - timedelta(seconds=1))
    fresh = _push(oauth, 2)
    out = StringIO()
    call_command("clear_pushed_authorizations", stdout=out)
    assert out.getvalue().strip() == "deleted=3"
    assert PushedAuthorization.objects.count() == 2
    # The deleted ones are unknown now (the same answer as expired); the fresh ones still work.
    with requests.Session() as browser:
        gone = browser.get(expired[0].uri, allow_redirects=False, timeout=10)
        assert gone.status_code == 400 and "invalid_request_uri" in gone.text
        alive = browser.get(fresh[0].uri, allow_redirects=False, timeout=10)
        assert alive.status_code == 302 and "/accounts/login/" in alive.headers["Location"]
    call_command("clear_pushed_authorizations", stdout=out)
    assert out.getvalue().strip().endswith("deleted=0")


def test_the_sweep_works_in_batches(live_server, oauth):
    _push(oauth, 5)
    assert sweep.clear_expired(now=timezone.now() + timedelta(seconds=61), batch_size=2) == 5
    assert not PushedAuthorization.objects.exists()


def test_the_beat_task_runs_the_sweep(live_server, oauth):
    _push(oauth, 2)
    PushedAuthorization.objects.update(expires=timezone.now() - timedelta(seconds=1))
    entry = settings.CELERY_BEAT_SCHEDULE["mfa-oauth-par-sweep"]
    assert entry["task"] == tasks.clear_pushed_authorizations.name
    assert tasks.clear_pushed_authorizations.apply().get() == 2
    assert not PushedAuthorization.objects.exists()
