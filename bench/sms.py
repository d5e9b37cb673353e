"""The bench's SMS figures: the site under gunicorn, a real Celery worker on Redis, the Twilio-shaped server.

- **request latency while Twilio is slow**: a signed-in user at the challenge step asks for a code
  ("send me a code", ``action=send``) again and again while the Twilio-shaped server takes 2 s to
  answer each message (one client, so the latency is the request's, not a queue at the workers).
  The web request only queues the message (the worker talks to Twilio), so its p50/p95 must not see
  the 2 s.
- **codes per second with one worker**: a burst of requests, timed from the first request to the
  Twilio-shaped server receiving the last message (one Celery worker, solo pool, Twilio answering at once).

The site runs with the real ``twilio`` client (``TWILIO_API_BASE_URL`` pointed at the local server, as
tests/sms does), SMS limits off (the bench's few accounts ask many times; the limits are their own
feature, measured by their tests) and Celery on the given Redis database.

``python -m bench.sms seed --accounts N`` (run by :func:`run` with the deployment's environment) adds
accounts ``benchsms000``... whose only factor is a confirmed SMS device, and prints their devices.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, seed  # noqa: E402

ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-auth-token-" + "0" * 15
FROM_NUMBER = "+12025550100"
SLOW_TWILIO_SECONDS = 2.0
SERVER_CPU_MS: list[float] = []  # X-CPU-Time of the requests with slow Twilio (list.append is thread-safe)


def sms_username(index: int) -> str:
    return f"benchsms{index:03d}"


def seed_sms_accounts(count: int) -> dict[str, str]:
    """Accounts with one confirmed SMS device each (fictional 555-01xx numbers): username -> persistent_id."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from mfa_oauth.sms.models import SMSDevice

    User = get_user_model()
    encoded = make_password(seed.PASSWORD)  # once, as bench.seed does (see its docstring)
    devices = {}
    for i in range(count):
        user, _ = User.objects.get_or_create(
            username=sms_username(i), defaults={"password": encoded, "email": f"{sms_username(i)}@bench.invalid"}
        )
        device = SMSDevice.objects.filter(user=user).first() or SMSDevice.objects.create(
            user=user, name="bench phone", number=f"+1202555{101 + i % 99:04d}", confirmed=True
        )
        devices[user.username] = device.persistent_id
    return devices


def sms_env(fake_url: str, broker_url: str, public_base: str) -> dict[str, str]:
    return {
        "MFA_SMS_ENABLED": "1",
        "MFA_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake_url,
        "MFA_SMS_PUBLIC_BASE_URL": public_base,
        "MFA_SMS_ALLOWED_COUNTRIES": "US",
        # 0 turns a limit off: the bench's accounts ask again and again on purpose.
        "MFA_SMS_COOLDOWN": "0",
        "MFA_SMS_MAX_PER_NUMBER_PER_HOUR": "0",
        "MFA_SMS_MAX_PER_USER_PER_DAY": "0",
        "MFA_SMS_MAX_PER_IP_PER_HOUR": "0",
        "MFA_SMS_MAX_GLOBAL_PER_MINUTE": "0",
        "CELERY_BROKER_URL": broker_url,
    }


class Worker:
    """``celery -A idp_site worker``, solo pool, one process: the deployment's single SMS sender."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Worker:
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "idp_site", "worker", "-P", "solo", "-c", "1"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
                env=self.env,
                cwd=harness.ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while " ready." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"Celery worker did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc) -> None:
        # Messages still queued behind the slow Twilio are the bench's own: no need to wait for them.
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _at_challenge(site: harness.Server, username: str, client: harness.OAuthClient):
    """A browser signed in with its password, now at the challenge page: (session, challenge URL)."""
    session = site.new_session()
    _, challenge = harness.pkce_pair()
    start = harness.authorize_path(client, challenge, "sms")

    def go(method: str, url: str, expect: int, **kwargs):
        if method == "POST":
            kwargs.setdefault("headers", {})["Origin"] = site.origin
        answer = session.request(method, urljoin(site.base_url, url), allow_redirects=False, timeout=60, **kwargs)
        if answer.status_code != expect:
            raise harness.FlowError(f"sms sign-in: {answer.status_code} {method} {url[:60]}")
        return answer

    login_url = go("GET", start, 302).headers["Location"]
    page = go("GET", login_url, 200)
    fields = {**harness._Inputs(page.text).hidden, "username": username, "password": seed.PASSWORD}
    # The login answers with the challenge page (mfa_oauth.oauth.after_login); before a code was sent it
    # offers only its "Send me a code" form, which posts to /mfa/verify/.
    inputs = harness._Inputs(go("POST", login_url, 200, data=fields).text)
    verify_url = inputs.actions.get("mfa-send-form") or inputs.actions.get("mfa-verify-form", "")
    if urlsplit(verify_url).path != "/mfa/verify/":
        raise harness.FlowError(f"sms sign-in: the challenge page has no form posting to /mfa/verify/: {verify_url!r}")
    return session, urljoin(site.base_url, verify_url), inputs.hidden


def _ask(site, session, url: str, hidden: dict, device: str) -> tuple[float, bool]:
    started = time.perf_counter()
    answer = session.post(
        url, data={**hidden, "device": device, "action": "send"}, headers={"Origin": site.origin}, timeout=60
    )
    seconds = time.perf_counter() - started
    cpu = answer.headers.get(harness.CPU_HEADER)
    if cpu:
        SERVER_CPU_MS.append(float(cpu))
    return seconds, answer.status_code == 200 and "sent a code" in answer.text


def _served_ms(log: Path, offset: int, request: str) -> list[float]:
    """Milliseconds gunicorn logged (``%(M)sms``, deploy/gunicorn.conf.py) for ``request`` after ``offset``."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    return [float(ms) for ms in re.findall(re.escape(request) + r'[^"\\]*HTTP/[\d.]+\\?" \d+ \S+ (\d+)ms', text)]


def _in_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@contextmanager
def fake_twilio() -> Iterator:
    """The Twilio-shaped server of tests/sms (the real ``twilio`` client talks HTTP to it)."""
    from tests.sms.fake_twilio import FakeTwilio

    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    try:
        yield fake
    finally:
        fake.stop()


def run(
    deployment: harness.Deployment,
    site: harness.Server,
    fake,
    *,
    env: dict[str, str],
    broker_url: str,
    users: int,
    duration: float,
    burst: int,
) -> dict:
    """The SMS figures (see the module docstring) against ``site`` (started with :func:`sms_env`)."""
    import redis

    from tests.sms.fake_twilio import Reply

    devices = json.loads(
        harness._run(
            [sys.executable, "-m", "bench.sms", "seed", "--accounts", str(max(users, burst))], deployment.env, 120
        )
        .strip()
        .splitlines()[-1]
    )
    errors: list[str] = []
    latencies: list[float] = []
    codes_per_s = None
    slow_sent = 0
    server_ms: list[float] = []
    before = len(fake.creates)
    client = deployment.clients["public"]
    try:
        with Worker({**env, "DJANGO_SETTINGS_MODULE": "bench.settings_mfa"}, deployment.folder / "celery-sms.log"):
            names = sorted(devices)
            browsers, sign_in_errors, _ = harness.map_concurrently(
                names, users, lambda n: (devices[n], *_at_challenge(site, n, client))
            )
            errors.extend(sign_in_errors)

            # 1. Codes per second, Twilio answering at once: a burst of `burst` requests by `users`
            # clients, each from its own account (a newer code for the same phone supersedes an
            # unsent one, which the worker then rightly skips).
            ok_burst = []
            queue = list(range(min(burst, len(browsers))))
            lock = threading.Lock()
            started = time.time()

            def burst_user(_i: int) -> None:
                while True:
                    with lock:
                        if not queue:
                            return
                        n = queue.pop()
                    device, session, url, hidden = browsers[n]
                    ok_burst.append(_ask(site, session, url, hidden, device)[1])

            _in_threads(users, burst_user)
            try:
                creates = fake.wait_for_creates(before + burst, timeout=60 + burst)[before:]
                codes_per_s = burst / (max(r.at for r in creates) - started)
            except AssertionError as error:
                errors.append(str(error))
            if not all(ok_burst):
                errors.append(f"{ok_burst.count(False)} of {burst} burst requests were refused")

            # 2. Request latency while every Twilio answer takes 2 s (the worker stays busy; the queue grows).
            fake.script(*[Reply(delay=SLOW_TWILIO_SECONDS) for _ in range(10_000)])
            log_offset = site.log.stat().st_size
            refused = [0]
            SERVER_CPU_MS.clear()
            deadline = time.monotonic() + duration

            def slow_user(i: int) -> None:
                device, session, url, hidden = browsers[i]
                while time.monotonic() < deadline:
                    seconds, ok = _ask(site, session, url, hidden, device)
                    latencies.append(seconds)
                    refused[0] += not ok

            # One client: the figure is what a person waits for, not a queue of our own making (several
            # clients back to back would saturate the sync workers and measure their queue instead).
            _in_threads(1, slow_user)
            if refused[0]:
                errors.append(f"{refused[0]} of {len(latencies)} requests with slow Twilio were refused")
            slow_sent = len(fake.creates) - before - burst
            server_ms = _served_ms(site.log, log_offset, "POST /mfa/verify/")
    finally:
        redis.Redis.from_url(broker_url).delete("celery")  # the queued messages behind the slow Twilio
    return {
        "figures": {
            "sms.request_p50_ms": 1000 * harness.percentile(latencies, 50) if latencies else None,
            "sms.request_p95_ms": 1000 * harness.percentile(latencies, 95) if latencies else None,
            "sms.codes_per_s_one_worker": codes_per_s,
        },
        # gunicorn's own request time (its access log), apart from the client's: the two share the cores.
        "server_side_p50_ms": harness.percentile(server_ms, 50) if server_ms else None,
        "server_side_p95_ms": harness.percentile(server_ms, 95) if server_ms else None,
        "server_cpu_p50_ms": harness.percentile(SERVER_CPU_MS, 50) if SERVER_CPU_MS else None,
        "requests_with_slow_twilio": len(latencies),
        "twilio_requests_during_slow_phase": slow_sent,
        "burst": burst,
        "users": users,
        "slow_twilio_seconds": SLOW_TWILIO_SECONDS,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed the bench's SMS accounts (see the module docstring).")
    parser.add_argument("command", choices=["seed"])
    parser.add_argument("--accounts", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_mfa")
    import django

    django.setup()
    print(json.dumps(seed_sms_accounts(args.accounts)))


if __name__ == "__main__":
    main()
