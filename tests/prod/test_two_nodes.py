"""No per-process state: two gunicorn nodes sharing PostgreSQL and Redis behave as one site.

A full authorization (login -> TOTP -> consent -> code -> token -> userinfo -> refresh) whose
requests alternate between the nodes, and a brute-force storm spread across both nodes against
the per-user cap of ``mfa_oauth.lockout`` (MAX_FAILED_ATTEMPTS); and, on a second stack that texts
through Twilio (the local fake) from a real ``celery worker`` subprocess, an SMS-resend storm spread
across both nodes against the per-device cooldown and the per-number and per-user caps.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
import requests
from jwcrypto import jwk, jwt

from idp_site.management.commands.seed_demo import DEMO_TOTP_KEY_HEX, DEMO_USER
from tests.services import free_port, require_postgres, require_redis, run_scoped
from tests.sms.fake_twilio import FakeTwilio

from . import stack as stack_module
from .envs import PYTHON, ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PORTS = (free_port(), free_port())
CAP = 10
BOB = ("mallory", "mallory-storm-password-1")  # not "bob": seed_demo creates bob
BOB_KEY_HEX = "00112233445566778899aabbccddeeff00112233"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    postgres = require_postgres()
    redis_url = require_redis(7)
    folder = tmp_path_factory.mktemp("two-nodes")
    running = stack_module.start(
        folder,
        postgres,
        redis_url,
        PORTS,
        run_scoped("idp_prod_nodes"),
        MFA_MAX_FAILED_ATTEMPTS=str(CAP),
        OTP_TOTP_THROTTLE_FACTOR="0",  # leave only the hard cap, so the storm reaches it
    )
    try:
        running.manage("seed_demo", "--base-url", running.nodes[0].url, "--quiet")
        running.shell(
            "from django.contrib.auth import get_user_model\n"
            "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
            f"u = get_user_model().objects.create_user({BOB[0]!r}, password={BOB[1]!r})\n"
            f"TOTPDevice.objects.create(user=u, name='phone', key={BOB_KEY_HEX!r}, confirmed=True)\n"
        )
        yield running
    finally:
        running.stop()


class Inputs(HTMLParser):
    """The named inputs of a page: hidden fields with their values (the last of a name wins), radio buttons by name,
    form actions by id."""

    def __init__(self, html: str):
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.actions: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id"):
            self.actions[a["id"]] = a.get("action") or ""
        if tag != "input" or not a.get("name"):
            return
        if a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value") or ""
        elif a.get("type") == "radio":
            self.radios.setdefault(a["name"], []).append(a.get("value") or "")


def https_session(stack) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override ``verify``
    session.verify = str(stack.ca)
    return session


class Browser:
    """A cookie-keeping client whose every request goes to the next node in turn, like a
    round-robin load balancer without stickiness; POSTs carry the Origin of the page the form
    came from, as a browser's would."""

    def __init__(self, stack, first: int = 0):
        self.nodes = [n.url for n in stack.nodes]
        self.turn = first
        self.session = https_session(stack)
        self.served_by: list[str] = []
        self.page_origin = self.nodes[0]

    def _next(self) -> str:
        node = self.nodes[self.turn % len(self.nodes)]
        self.turn += 1
        self.served_by.append(node)
        return node

    def get(self, path: str) -> requests.Response:
        node = self._next()
        response = self.session.get(node + path, allow_redirects=False, timeout=30)
        self.page_origin = node
        return response

    def post(self, path: str, data: dict) -> requests.Response:
        node = self._next()
        headers = {"Origin": self.page_origin}
        return self.session.post(node + path, data=data, headers=headers, allow_redirects=False, timeout=30)


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login(browser: Browser, username: str, password: str, next_path: str = "/") -> requests.Response:
    page = browser.get("/accounts/login/?" + urlencode({"next": next_path}))
    assert page.status_code == 200
    fields = Inputs(page.text).hidden
    return browser.post("/accounts/login/", {**fields, "username": username, "password": password})


def test_full_authorization_alternating_between_nodes(stack):
    node_a, node_b = (n.url for n in stack.nodes)
    client_secret = stack.env["DEMO_CLIENT_SECRET"]
    redirect_uri = f"{node_a}/demo/callback/"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    authorize = "/o/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": "demo-rp",
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    browser = Browser(stack)

    # 1. node A: not signed in -> the login page
    response = browser.get(authorize)
    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/")
    # 2-3. login page from node B, password posted to node A
    response = login(browser, *DEMO_USER, next_path=authorize)
    assert response.status_code == 200, response.text[:500]
    session_cookie = response.headers["Set-Cookie"]
    assert "__Host-idp_session=" in session_cookie and "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert "Domain=" not in session_cookie and "Path=/" in session_cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # The login answers a password-only session with the second-factor page itself (after_login) ...
    inputs = Inputs(response.text)
    verify_path = inputs.actions["mfa-verify-form"]
    assert verify_path.startswith("/mfa/verify/")
    # 4. ... and node B's authorization endpoint agrees: password only -> that second-factor step
    response = browser.get(authorize)
    assert response.status_code == 302 and path_of(response.headers["Location"]) == verify_path
    # 5-6. the challenge page from node A (the login's answer), the TOTP code posted to node B
    code = pyotp.TOTP(base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()).now()
    response = browser.post(
        verify_path, {**inputs.hidden, "device": inputs.hidden["device"], "token": code, "action": "verify"}
    )
    assert response.status_code == 303, response.text[:500]
    # 7-8. consent page from node A, allowed on node B -> the code
    consent = browser.get(path_of(response.headers["Location"]))
    assert consent.status_code == 200 and 'id="authorizationForm"' in consent.text
    response = browser.post(
        path_of(response.headers["Location"]), {**Inputs(consent.text).hidden, "allow": "Authorize"}
    )
    assert response.status_code == 302, response.text[:500]
    answer = parse_qs(urlsplit(response.headers["Location"]).query)
    assert response.headers["Location"].startswith(redirect_uri)
    assert answer["state"] == [state] and answer["iss"] == [f"{node_a}/o"]

    # 9. the relying party redeems the code on node A and checks the id_token with node B's JWKS
    http = https_session(stack)
    token_data = {
        "grant_type": "authorization_code",
        "code": answer["code"][0],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    tokens = http.post(f"{node_a}/o/token/", data=token_data, auth=("demo-rp", client_secret), timeout=30)
    assert tokens.status_code == 200, tokens.text
    tokens = tokens.json()
    keys = jwk.JWKSet.from_json(http.get(f"{node_b}/o/.well-known/jwks.json", timeout=30).text)
    id_token = jwt.JWT(
        jwt=tokens["id_token"], key=keys, algs=["RS256"], check_claims={"iss": f"{node_a}/o", "aud": "demo-rp"}
    )
    claims = json.loads(id_token.claims)
    assert claims["nonce"] == nonce
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa"
    assert {"pwd", "otp", "mfa"} <= set(claims["amr"])
    # 10. userinfo on node B, 11. refresh on node B; replaying the old refresh token on node A fails
    userinfo = http.get(f"{node_b}/o/userinfo/", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 200 and userinfo.json()["acr"] == claims["acr"]
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = http.post(f"{node_b}/o/token/", data=refresh, auth=("demo-rp", client_secret), timeout=30)
    assert refreshed.status_code == 200, refreshed.text
    replay = http.post(f"{node_a}/o/token/", data=refresh, auth=("demo-rp", client_secret), timeout=30)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    assert set(browser.served_by) == {node_a, node_b}
    assert browser.served_by[:4] == [node_a, node_b, node_a, node_b]
    # Tokens are stored hashed (RFC 9700 §4, DOT's COMPLIANT_BCP_RFC9700_TOKEN_STORAGE).
    stored = stack.shell(
        "from oauth2_provider.models import AccessToken\n"
        "print(sorted(set(AccessToken.objects.values_list('token', flat=True))))"
    )
    assert tokens["access_token"] not in stored


def test_brute_force_storm_across_both_nodes_stops_at_the_cap(stack):
    sessions = 12
    attempts_each = 3
    bob_totp = pyotp.TOTP(base64.b32encode(bytes.fromhex(BOB_KEY_HEX)).decode())
    now = time.time()
    valid = {bob_totp.at(now + 30 * drift) for drift in (-2, -1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)

    def prepare(i: int):
        browser = Browser(stack, first=i)
        assert login(browser, *BOB).status_code == 302
        page = browser.get("/mfa/verify/?next=/")
        inputs = Inputs(page.text)
        return browser, {**inputs.hidden, "device": inputs.hidden["device"], "action": "verify"}

    browsers = [prepare(i) for i in range(sessions)]

    def storm(item):
        browser, form = item
        return [browser.post("/mfa/verify/", {**form, "token": wrong}) for _ in range(attempts_each)]

    with ThreadPoolExecutor(max_workers=sessions) as pool:
        responses = [r for batch in pool.map(storm, browsers) for r in batch]

    statuses = [r.status_code for r in responses]
    wrong_answers = [r for r in responses if r.status_code == 200]
    assert len(responses) == sessions * attempts_each
    # Exactly CAP codes were evaluated: CAP-1 "did not work", then the one that locked, then only refusals.
    assert len(wrong_answers) == CAP - 1, statuses
    assert all(b"That code did not work" in r.content for r in wrong_answers)
    assert statuses.count(403) == len(responses) - (CAP - 1)
    assert len(stack.audit("mfa_failed", BOB[0])) == CAP
    assert len(stack.audit("locked", BOB[0])) == 1
    served = {b.served_by[-1] for b, _ in browsers} | {b.served_by[-2] for b, _ in browsers}
    assert served == {n.url for n in stack.nodes}

    # Locked for good: even the correct code is refused, on either node, and new sessions are told so.
    for browser, form in browsers[:2]:
        response = browser.post("/mfa/verify/", {**form, "token": bob_totp.now()})
        assert response.status_code == 403 and b"locked" in response.content
        assert 'id="mfa-locked"' in browser.get("/mfa/verify/?next=/").text
    state = stack.shell(
        "from mfa_oauth.models import UserMFAState\n"
        "s = UserMFAState.objects.get(user__username='mallory')\n"
        "print(s.locked_at is not None)"
    )
    assert state.strip().splitlines()[-1] == "True"


# --- the SMS resend storm: its own stack with Twilio (the fake), a real Celery worker --------------
SMS_PORTS = (free_port(), free_port())
SMS_REDIS_DB = 9
TWILIO_SID = "AC" + "7a" * 16
TWILIO_TOKEN = "fake-auth-token-prodsms-" + "0" * 8
SMS_USER = ("carol-sms", "carol-storm-password-1")
SHARED_NUMBER = "+12025550131"  # three devices on one number: the per-number cap
OTHER_NUMBERS = ("+12025550132", "+12025550133", "+12025550134")
PER_NUMBER_CAP = 2
PER_USER_CAP = 4
COOLDOWN_TEXT = "A code was sent a moment ago. You can ask for another in"
NUMBER_CAP_TEXT = "Too many codes were sent to this number. Try again in"
USER_CAP_TEXT = "You have asked for too many text messages today. Try again in"


def start_worker(stack, log: Path) -> subprocess.Popen:
    """``celery -A idp_site worker -P solo`` as production starts it, on the stack's broker and database."""
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "idp_site",
            "worker",
            "-P",
            "solo",
            "-c",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            "prodsms@%h",
        ],  # fmt: skip
        env=stack.env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90  # a loaded CI machine
    while " ready." not in log.read_text(errors="replace"):  # celery's "celery@host ready."
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the Celery worker did not start: {log.read_text()[-3000:]}")
        time.sleep(0.1)
    return process


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task in hand
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def sms_stack(tmp_path):
    """Two nodes texting through Twilio (the local fake) via a real worker; caps small enough to hit."""
    postgres = require_postgres()
    redis_url = require_redis(SMS_REDIS_DB)
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    worker = None
    running = None
    try:
        running = stack_module.start(
            tmp_path,
            postgres,
            redis_url,
            SMS_PORTS,
            run_scoped("idp_prodsms_nodes"),
            MFA_SMS_ENABLED="true",
            MFA_SMS_BACKEND="twilio",
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_FROM_NUMBER="+12025550100",
            TWILIO_API_BASE_URL=fake.url,
            MFA_SMS_PUBLIC_BASE_URL=f"https://127.0.0.1:{SMS_PORTS[0]}",
            MFA_SMS_ALLOWED_COUNTRIES="US",
            MFA_SMS_COOLDOWN="30",
            MFA_SMS_MAX_PER_NUMBER_PER_HOUR=str(PER_NUMBER_CAP),
            MFA_SMS_MAX_PER_USER_PER_DAY=str(PER_USER_CAP),
        )
        devices = running.shell(
            "import json\n"
            "from django.contrib.auth import get_user_model\n"
            "from mfa_oauth.sms.models import SMSDevice\n"
            f"u = get_user_model().objects.create_user({SMS_USER[0]!r}, password={SMS_USER[1]!r})\n"
            "ids = {}\n"
            f"for name, number in {[('A1', SHARED_NUMBER), ('A2', SHARED_NUMBER), ('A3', SHARED_NUMBER)]!r}"
            f" + list(zip(('B1', 'B2', 'B3'), {OTHER_NUMBERS!r})):\n"
            "    d = SMSDevice.objects.create(user=u, name=name, number=number, confirmed=True)\n"
            "    ids[name] = d.persistent_id\n"
            "print(json.dumps(ids))\n"
        )
        worker = start_worker(running, tmp_path / "worker.log")
        yield running, fake, json.loads(devices.strip().splitlines()[-1])
    finally:
        if worker is not None:
            stop_worker(worker)
        if running is not None:
            running.stop()
        fake.stop()


def storm(sessions: list[tuple[Browser, dict]], devices: list[str], rounds: int) -> list[requests.Response]:
    """Every session presses "Send me a code" for each device ``rounds`` times, all at once, its
    requests alternating between the nodes."""

    def press(item):
        browser, form = item
        return [
            browser.post("/mfa/verify/?next=/", {**form, "device": device, "action": "send"})
            for _ in range(rounds)
            for device in devices
        ]

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        return [r for batch in pool.map(press, sessions) for r in batch]


def sent(responses) -> list[requests.Response]:
    return [r for r in responses if r.status_code == 200 and "We sent a code to" in r.text]


def refusals(responses) -> list[str]:
    """The error paragraph of each refused send (all of them must be 429 with Retry-After)."""
    texts = []
    for response in responses:
        if response.status_code == 200:
            continue
        assert response.status_code == 429, (response.status_code, response.text[:500])
        assert int(response.headers["Retry-After"]) >= 1
        match = re.search(r'id="mfa-error"[^>]*>([^<]*)<', response.text)
        assert match, response.text[:1000]
        texts.append(match.group(1))
    return texts


def test_sms_resend_storm_across_both_nodes(sms_stack):
    stack, fake, ids = sms_stack

    def prepare(i: int):
        browser = Browser(stack, first=i)
        assert login(browser, *SMS_USER).status_code == 302
        page = browser.get("/mfa/verify/?next=/")
        assert page.status_code == 200 and 'id="mfa-send"' in page.text
        return browser, Inputs(page.text).hidden

    sessions = [prepare(i) for i in range(6)]

    # 1. One device, 18 presses from 6 sessions on both nodes: the cooldown lets exactly one through.
    first = storm(sessions, [ids["A1"]], rounds=3)
    assert len(sent(first)) == 1, [r.status_code for r in first]
    assert set(refusals(first)) == {t for t in refusals(first) if t.startswith(COOLDOWN_TEXT)}
    assert len(refusals(first)) == 17

    # 2. Two more devices on the same number: the number's cap (2 per hour) lets one more through.
    second = storm(sessions, [ids["A2"], ids["A3"]], rounds=2)
    assert len(sent(second)) == 1
    texts = refusals(second)
    assert len(texts) == 23
    assert any(t.startswith(NUMBER_CAP_TEXT) for t in texts)
    assert all(t.startswith((COOLDOWN_TEXT, NUMBER_CAP_TEXT)) for t in texts), set(texts)

    # 3. Three devices on other numbers: the user's cap (4 per day) lets exactly two more through.
    third = storm(sessions, [ids["B1"], ids["B2"], ids["B3"]], rounds=2)
    assert len(sent(third)) == PER_USER_CAP - 2
    texts = refusals(third)
    assert len(texts) == 36 - 2
    assert any(t.startswith(USER_CAP_TEXT) for t in texts)
    assert all(t.startswith((COOLDOWN_TEXT, USER_CAP_TEXT)) for t in texts), set(texts)

    served = {url for browser, _ in sessions for url in browser.served_by}
    assert served == {n.url for n in stack.nodes}

    # The worker sends exactly the allowed texts: the fake Twilio sees four create requests, no more.
    creates = fake.wait_for_creates(PER_USER_CAP, timeout=30)
    rows = stack.shell(
        "import json, time\n"
        "from mfa_oauth.sms.models import SMSMessage\n"
        "deadline = time.monotonic() + 30\n"
        "while SMSMessage.objects.exclude(status='sent').exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.2)\n"
        "print(json.dumps(sorted(SMSMessage.objects.values_list('to', 'status'))))\n"
    )
    time.sleep(1.0)  # a duplicate would arrive now
    assert len(fake.creates) == PER_USER_CAP
    assert all(r.authorized for r in creates)
    to = sorted(r.form["To"] for r in creates)
    assert to.count(SHARED_NUMBER) == PER_NUMBER_CAP
    assert len(set(to) & set(OTHER_NUMBERS)) == PER_USER_CAP - PER_NUMBER_CAP
    assert sorted(json.loads(rows.strip().splitlines()[-1])) == sorted([t, "sent"] for t in to)
    assert len({r.form["Body"] for r in creates}) == PER_USER_CAP  # four different codes


def test_healthz_on_both_nodes(stack):
    for node in stack.nodes:
        body = requests.get(f"{node.url}/healthz", verify=str(stack.ca), timeout=10).json()
        assert body == {
            "status": "ok",
            "down": [],
            "checks": {"database": "ok (postgresql)", "cache": "ok (RedisCache)", "broker": "ok (redis)"},
        }


def test_nodes_stop_gracefully_on_sigterm(stack):
    # Last in this module: what an orchestrator (or honcho on Ctrl-C) does at shutdown.
    for node in stack.nodes:
        node.process.send_signal(signal.SIGTERM)
    for node in stack.nodes:
        assert node.process.wait(timeout=30) == 0
        messages = [e.get("message", "") for e in node.log_entries()]
        assert "Handling signal: term" in messages and "Shutting down: Master" in messages
