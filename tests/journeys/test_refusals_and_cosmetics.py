"""Refusals that name the next step, `make run`'s address, SMS before a code was sent, and the small
things a newcomer tripped over (docs/journeys.md)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import time_machine
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.operators.charts import daily_columns
from mfa_oauth.sms.models import SMSDevice
from tests.account.helpers import give_mfa
from tests.conftest import PASSWORD, totp_for
from tests.oauth import AuthorizationRequest, declining_the_offer, full_authorization, login

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


# --- make run: the address it prints is the one it serves, and passkeys name theirs ----------------
def test_make_run_serves_and_prints_localhost():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^HOST \?= localhost$", makefile, re.M)
    dry = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "http://localhost:8123/" in dry
    assert "localhost:8123" in dry.split("rundev", 1)[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_the_development_server_answers_on_both_loopback_addresses(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "rundev", "--noreload", "--skip-checks", "--insecure", f"localhost:{port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**__import__("os").environ, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"},
    )
    try:
        families = ["127.0.0.1"] + (["[::1]"] if _ipv6_loopback() else [])
        for host in families:
            deadline = time.monotonic() + 30
            while True:
                try:
                    # Host: localhost, as a browser sends it; the answer only has to come from this server.
                    answer = requests.get(
                        f"http://{host}:{port}/healthz", headers={"Host": f"localhost:{port}"}, timeout=2
                    )
                    break
                except requests.ConnectionError:
                    assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
                    time.sleep(0.2)
            assert answer.status_code in (200, 503), (host, answer.status_code)
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert f"http://localhost:{port}/" in output


def test_the_passkey_button_carries_the_sites_own_address(client, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "WEBAUTHN_ORIGINS": ["http://localhost:8000"]}
    page = client.get("/accounts/login/").content.decode()
    assert 'data-site-address="http://localhost:8000/"' in page
    script = (ROOT / "mfa_oauth/static/mfa_oauth/webauthn.js").read_text()
    assert "siteAddress" in script


# --- a refusal with a way forward ------------------------------------------------------------------
def test_a_phishing_resistant_request_offers_to_add_a_key_first(client, application, totp_device):
    full_authorization(client, totp_device)
    request_url = AuthorizationRequest().url(acr_values="phr")
    offer = client.get(request_url)
    page = offer.content.decode()
    assert offer.status_code == 200 and "Add a security key" in page
    add = re.search(r'id="mfa-add-key" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert urlparse(add).path == "/account/security/"
    back = parse_qs(urlparse(add).query)["next"][0]
    assert back.startswith("/o/authorize/") and "acr_values=phr" in back
    # The security page offers the way back, and its enrollment links return to it.
    security = client.get(add).content.decode()
    assert 'id="mfa-continue-link"' in security
    # Declining gives the client the error it would have had, and no code.
    params = parse_qs(urlparse(declining_the_offer(offer)["Location"]).query)
    assert params["error"] == ["unmet_authentication_requirements"] and "code" not in params


@time_machine.travel("2026-03-01 12:00:00Z", tick=False)
def test_a_throttled_code_says_it_is_a_throttle_with_a_correct_plural(client, totp_device):
    login(client)
    url = "/mfa/verify/?next=/"
    client.post(
        url,
        {
            "device": totp_device.persistent_id,
            "token": "000000" if totp_for(totp_device).now() != "000000" else "111111",
        },
    )
    throttled = client.post(url, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
    text = throttled.content.decode()
    assert throttled.status_code == 429
    assert "paused for a moment to stop guessing" in text
    seconds, unit = re.search(r"Try again in (\d+) (seconds?)\.", text).groups()
    assert unit == ("second" if seconds == "1" else "seconds")
    assert throttled["Retry-After"] == seconds
    from mfa_oauth.verify.flows import throttle_message

    assert throttle_message(1).endswith("Try again in 1 second.")
    assert throttle_message(3).endswith("Try again in 3 seconds.")


@time_machine.travel("2026-03-01 12:00:00Z", tick=False)
def test_adding_an_app_right_after_a_wrong_code_says_throttle_not_the_phone_clock(client, user):
    import pyotp

    give_mfa_free = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert give_mfa_free.status_code == 302
    page = client.get("/mfa/enroll/totp/?next=/account/security/").content.decode()
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page).group(1)
    client.post("/mfa/enroll/totp/?next=/account/security/", {"token": "000000"})
    second = client.post("/mfa/enroll/totp/?next=/account/security/", {"token": pyotp.TOTP(secret).now()})
    text = second.content.decode()
    assert "Check the time on your phone" not in text
    assert "paused for a moment to stop guessing" in text


# --- SMS: "Send me a code" first -------------------------------------------------------------------
def test_before_a_code_was_sent_the_challenge_offers_only_send(client, user):
    device = SMSDevice.objects.create(user=user, name="Phone", number="+12025550123", confirmed=True)
    login(client)
    page = client.get("/mfa/verify/?next=/").content.decode()
    assert 'id="mfa-send"' in page and "Send me a code" in page
    assert 'name="token"' not in page and 'id="mfa-verify"' not in page
    assert 'class="mfa-primary"' in page.split('id="mfa-send"')[1][:80]
    assert device.persistent_id in page


# --- cosmetics -------------------------------------------------------------------------------------
def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("mfa_oauth/favicon.svg")
    assert 'rel="icon"' in client.get("/accounts/login/").content.decode()


@override_settings(DEBUG=False)
def test_a_missing_page_is_the_sites_own_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="not-found"' in page and "mfa_oauth.css" in page


def test_the_consent_heading_is_a_page_heading(client, application, totp_device):
    full_authorization(client, totp_device)
    page = client.get(AuthorizationRequest().url()).content.decode()
    assert '<h1 class="block-center-heading">' in page


def test_a_new_app_is_not_named_after_its_kind_and_its_addition_is_confirmed(client, user):
    import pyotp

    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    page = client.get("/mfa/enroll/totp/?next=/account/security/").content.decode()
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page).group(1)
    done = client.post("/mfa/enroll/totp/?next=/account/security/", {"token": pyotp.TOTP(secret).now()})
    assert done.status_code == 303
    security = client.get("/account/security/").content.decode()
    assert "Authenticator app: Authenticator app" not in security
    assert 'data-message="success"' in security and "Authenticator app added" in security


def test_admin_index_labels_read_as_words(client):
    from tests.account.helpers import make_staff

    staff = make_staff()
    device = TOTPDevice.objects.create(user=staff, name="p", confirmed=True)
    give_mfa(client, staff, device)
    page = client.get("/admin/").content.decode()
    assert "TOTP tokens (SHA-1/256/512)" in page and "(SHA-1/256/512)s" not in page
    assert "Otp_Totp" not in page and "Otp_Hotp" not in page and "Sms messages" not in page
    assert "Authenticator apps (TOTP)" in page and "Text messages (outbox)" in page


def test_the_daily_chart_labels_today_and_draws_sent_in_a_calm_colour():
    days = [f"2026-03-{d:02d}" for d in range(1, 15)]
    svg = daily_columns(days, [("Sent", [1] * 14), ("Failed", [0] * 14)], title="t", colours=("#3b6ea5", "#c0392b"))
    assert ">03-14<" in svg  # the last day (today)
    assert 'fill="#3b6ea5"><title>2026-03-01 Sent' in svg
