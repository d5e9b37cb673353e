"""The finance app's per-browser state lives in the database (idp_site.demo.models.FinanceAppState), not
in the site's cache, which is per process in the embedded default: a callback served by another worker
finds the pending request. Driven over HTTP against the live server as seed_demo sets the app up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
import requests
import time_machine
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from idp_site.demo import finance
from idp_site.demo.finance_views import COOKIE
from idp_site.demo.models import FinanceAppState
from idp_site.management.commands.seed_demo import DEMO_USER
from tests.conftest import totp_for
from tests.fapi.helpers import consent_form, form_action, hidden_fields

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(live_server, settings, tmp_path):
    settings.DEMO_FINANCE_STATE_FILE = tmp_path / "demo-finance-app.json"
    call_command("seed_demo", "--base-url", live_server.url, "--quiet", stdout=StringIO())
    caches["default"].clear()
    return TOTPDevice.objects.get(user__username=DEMO_USER[0], name="Demo authenticator")


def bank_approves(url: str, device) -> str:
    """The user's browser at the bank: login, TOTP, consent; the authorization response's Location."""
    browser = requests.Session()
    login_page = browser.get(url, timeout=10)
    fields = {**hidden_fields(login_page.text), "username": DEMO_USER[0], "password": DEMO_USER[1]}
    challenge = browser.post(login_page.url, data=fields, timeout=10)
    fields = {**hidden_fields(challenge.text), "device": device.persistent_id, "token": totp_for(device).now()}
    consent = browser.post(
        urljoin(challenge.url, form_action(challenge.text, "mfa-verify-form")), data=fields, timeout=10
    )
    assert 'id="authorizationForm"' in consent.text, consent.text[:500]
    answer = browser.post(consent.url, data=consent_form(consent.text), allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def test_the_callback_finds_the_pending_request_after_a_cache_clear(live_server, seeded):
    app = requests.Session()  # the user's browser at the finance app
    page = app.get(f"{live_server.url}/demo/finance/", timeout=10)
    accounts = {"account_1": prefilled(page.text, "account_1"), "account_2": ""}
    started = app.post(
        f"{live_server.url}/demo/finance/connect/",
        data={**hidden_fields(page.text), **accounts},
        allow_redirects=False,
        timeout=10,
    )
    assert started.status_code == 302 and "/o/authorize/" in started.headers["Location"]
    reference = app.cookies[COOKIE]
    (row,) = FinanceAppState.objects.all()
    assert row.pending and row.key != reference and reference not in str(row.data)  # keyed by a digest

    # What another worker with its own (empty) cache would see: nothing of the app's state is cached.
    caches["default"].clear()
    callback = bank_approves(started.headers["Location"], seeded)
    assert urlsplit(callback).path == "/demo/finance/callback/"
    done = app.get(callback, timeout=10)
    assert 'id="finance-token-type"' in done.text and 'id="finance-error"' not in done.text, done.text[:800]
    row.refresh_from_db()
    assert row.pending == "" and row.data["token"] and row.data["connection"]["token_type"] == "DPoP"

    # The state survives another clear, and the pending request was used once: a replay is refused.
    caches["default"].clear()
    assert 'id="finance-token-type"' in app.get(f"{live_server.url}/demo/finance/", timeout=10).text
    replayed = app.get(callback, timeout=10)
    assert "started no connection" in replayed.text


def prefilled(page: str, name: str) -> str:
    """The value the connect form is pre-filled with (alice's account numbers)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page
    )
    assert match, page[:500]
    return match.group(1)


def test_the_pending_request_is_claimed_once_and_expires(seeded, live_server):
    oauth = finance.client(live_server.url, f"{live_server.url}/demo/finance/callback/")
    authorization = oauth.authorization_request(scope=finance.SCOPE, nonce=None)
    finance.begin("ref-" + "a" * 30, authorization, ["DE0001"])
    claimed = finance.claim("ref-" + "a" * 30)
    assert claimed is not None and claimed.code_verifier == authorization.code_verifier
    assert claimed.dpop_key is not None and claimed.dpop_key.dpop_jkt == authorization.dpop_key.dpop_jkt
    assert finance.claim("ref-" + "a" * 30) is None  # a second claim (a replay, another worker) finds nothing
    assert finance.session("ref-" + "a" * 30) == {"asked": ["DE0001"]}

    finance.begin("ref-" + "b" * 30, authorization, ["DE0002"])
    later = timezone.now() + timedelta(seconds=finance.STATE_LIFETIME + 1)
    with time_machine.travel(later, tick=False):
        assert finance.claim("ref-" + "b" * 30) is None and finance.session("ref-" + "b" * 30) == {}
        finance.begin("ref-" + "c" * 30, authorization, ["DE0003"])  # a new connection sweeps expired rows
    assert list(FinanceAppState.objects.values_list("key", flat=True)) == [finance._key("ref-" + "c" * 30)]


FRESH_PROCESS = """
import json, sys
import django
django.setup()
from idp_site.demo import finance
reference = sys.argv[1]
claimed = finance.claim(reference)
print(json.dumps({"verifier": claimed.code_verifier if claimed else None, "session": finance.session(reference)}))
"""


@pytest.mark.postgres
def test_a_fresh_process_claims_the_request_this_one_pushed(seeded, live_server, tmp_path):
    """Another worker is another process, with its own empty per-process cache but the same database."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the suite on PostgreSQL (DATABASE_URL=postgres://...; CI runs it in its PostgreSQL leg)")
    oauth = finance.client(live_server.url, f"{live_server.url}/demo/finance/callback/")
    authorization = oauth.authorization_request(scope=finance.SCOPE, nonce=None)
    reference = "ref-" + "d" * 30
    finance.begin(reference, authorization, ["DE0004"])
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, reference], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"verifier": authorization.code_verifier, "session": {"asked": ["DE0004"]}}
    assert finance.claim(reference) is None  # claimed over there: not again here
