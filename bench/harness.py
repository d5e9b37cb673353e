"""Shared machinery of the benchmarks and load tests: a seeded deployment, gunicorn, a real HTTP client.

    from bench.harness import deploy, Server, AccountPool, complete_authorization, run_concurrently

    with deploy(folder, accounts=2000, postgres_url=..., redis_url=...) as site_env:
        with Server(site_env.env, port=18100, workers=2) as server:
            pool = AccountPool(site_env.accounts)
            task = flow_task(server, pool, site_env.clients["public"])
            result = run_concurrently(task, users=200, duration=60)

**Transport.** The server speaks plain HTTP on loopback; the client sends ``X-Forwarded-Proto: https``
as the TLS-terminating proxy in front of a production node would. gunicorn trusts that header from
127.0.0.1 (``forwarded_allow_ips`` in deploy/gunicorn.conf.py), so Django sees an https request and
the production settings run unchanged: SSL redirect, Secure ``__Host-`` cookies, HSTS, the CSRF
origin check against ``https://``. Nothing in the site's settings is turned off for the bench, and
no TLS handshake (work the proxy does, not our code) is measured. The only client-side concession is
that Secure cookies travel over the loopback hop, as they would between proxy and node.

**Load generator.** Threads with blocking ``requests``: the GIL is released while a thread waits on
its socket, which is nearly all of a simulated user's time, and the generator's own CPU is reported
(``LoadResult.client_cpu_seconds``) so it can be told apart from the server's (the two share the
machine). Figures "per core" divide by the server processes' CPU seconds, never by wall time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pyotp
import requests

from bench import seed

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Loopback and never fetched: the client reads the code from the redirect's Location header.
REDIRECT_URI = "https://127.0.0.1/bench/callback"
STEPS = (
    "authorize",
    "login_get",
    "login",
    "mfa_redirect",
    "challenge_get",
    "challenge_post",
    "consent_get",
    "consent_post",
    "token",
)
# mfa_redirect (authorize -> challenge) only happens with a login view that does not use
# mfa_oauth.oauth.after_login; the reference site's login redirects straight to the challenge.
CHALLENGE_STEPS = ("mfa_redirect", "challenge_get", "challenge_post")
TOTP_PERIOD = 30
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
SQL_HEADER = "X-SQL-Count"
CPU_HEADER = "X-CPU-Time"  # milliseconds of the worker's CPU for the request (bench.sqlcount)


# --- accounts and clients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    totp_key_hex: str

    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(base64.b32encode(bytes.fromhex(self.totp_key_hex)).decode())


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str | None = None  # None: a public client (PKCE only)
    redirect_uri: str | None = REDIRECT_URI


class AccountPool:
    """Hands out accounts so that no account signs in twice within one TOTP time step.

    django-otp accepts each code once (a device's ``last_t`` must move forward), so an account used
    at step t can next pass the challenge at step t+1. The pool is FIFO: when the account at the
    front was used in the current step, every account was, and the caller waits for the next step
    (``waits`` counts those; seed more accounts when it is not 0: rate x 30 s x 2 is ample).
    """

    def __init__(self, accounts: list[Account]):
        if not accounts:
            raise ValueError("an empty account pool")
        self._free: deque[tuple[Account, int]] = deque((a, -1) for a in accounts)
        self._ready = threading.Condition()
        self.waits = 0
        self.size = len(accounts)

    @staticmethod
    def current_step() -> int:
        return int(time.time()) // TOTP_PERIOD

    def acquire(self, timeout: float = 2 * TOTP_PERIOD + 5) -> Account:
        deadline = time.monotonic() + timeout
        with self._ready:
            while True:
                if self._free and self._free[0][1] < self.current_step():
                    return self._free.popleft()[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no account free of its TOTP step within {timeout:.0f}s (pool {self.size})")
                self.waits += 1
                until_next_step = TOTP_PERIOD - time.time() % TOTP_PERIOD + 0.05
                self._ready.wait(min(remaining, until_next_step if self._free else remaining))

    def release(self, account: Account, used_step: int | None) -> None:
        """Back into the pool; ``used_step`` is the time step of the code it spent (None: none spent)."""
        with self._ready:
            self._free.append((account, -1 if used_step is None else used_step))
            self._ready.notify()


# --- deployment: database, cache, migrations, seed ----------------------------------------------------


@dataclass
class Deployment:
    """A migrated, seeded database plus the environment a server process needs to use it."""

    folder: Path
    env: dict[str, str]
    production: bool
    accounts: list[Account]
    clients: dict[str, OAuthClient]  # "public", "confidential", "service"
    database: str  # PostgreSQL database name or SQLite file

    def manage(self, *args: str, timeout: float = 300) -> str:
        return _run([PYTHON, "manage.py", *args], self.env, timeout)

    def seed(self, accounts: int) -> None:
        """Top the bench accounts up to ``accounts`` (clients' secrets are renewed)."""
        self._apply_seed(
            _run(
                [PYTHON, "-m", "bench.seed", "--accounts", str(accounts), "--redirect-uri", REDIRECT_URI], self.env, 300
            )
        )

    def _apply_seed(self, output: str) -> None:
        data = json.loads(output.strip().splitlines()[-1])
        self.accounts = [
            Account(seed.username(i), data["password"], seed.totp_key_hex(seed.username(i)))
            for i in range(data["accounts"])
        ]
        self.clients = {
            role: OAuthClient(c["client_id"], c["client_secret"], c["redirect_uri"])
            for role, c in data["clients"].items()
        }


def _run(command: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:4])} failed ({result.returncode}): {result.stdout}{result.stderr}")
    return result.stdout


def _pg_admin(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


@contextmanager
def deploy(
    folder: Path,
    *,
    accounts: int = 100,
    postgres_url: str | None = None,
    redis_url: str | None = None,
    settings_module: str = "bench.settings_mfa",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """Migrate and seed a fresh database; drop it afterwards.

    Without ``postgres_url``: the embedded default (``idp_site.settings`` with no environment): SQLite
    in ``folder``, per-process memory cache, Celery eager; ``redis_url`` then only moves the cache to
    Redis. With ``postgres_url`` (any database on the server; used for its host and credentials): the
    production settings (``IDP_PRODUCTION=1``) on a new database ``bench_<pid>_<random>``, with
    ``redis_url`` (required, flushed: give a database number of your own) as cache and broker.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    admin_url = database = None
    if postgres_url:
        from tests.prod.envs import production_env

        if not redis_url:
            raise ValueError("production settings need Redis: pass redis_url")
        parts = urlsplit(postgres_url)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        database = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
        _pg_admin(admin_url, f'CREATE DATABASE "{database}"')
        env = production_env(
            folder,
            DATABASE_URL=urlunsplit(parts._replace(path=f"/{database}")),
            CACHE_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DEMO_CLIENT_SECRET=secrets.token_urlsafe(24),
        )
    else:
        from tests.prod.envs import base_env

        env = base_env(folder)  # IDP_VAR_DIR=folder: the SQLite file and the signing key live there
        database = str(folder / "idp.sqlite3")
        if redis_url:
            env["CACHE_URL"] = redis_url
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()  # our own database number only
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env.update(extra_env or {})
    deployment = Deployment(folder, env, bool(postgres_url), [], {}, database)
    try:
        deployment.manage("migrate", "--noinput", "-v0")
        if deployment.production:
            # Production serves only collected, hashed static files: templates need the manifest.
            deployment.manage("collectstatic", "--noinput", "-v0")
        deployment.seed(accounts)
        yield deployment
    finally:
        if admin_url:
            _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- gunicorn ----------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards), or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


class Server:
    """gunicorn (deploy/gunicorn.conf.py, sync workers) serving the site on 127.0.0.1:``port``."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        port: int,
        workers: int = 2,
        settings_module: str | None = None,
        log: Path | None = None,
        startup_timeout: float = 60,
        behind_proxy: bool = True,
    ):
        self.port = port
        self.workers = workers
        self.base_url = f"http://127.0.0.1:{port}"
        self.behind_proxy = behind_proxy
        # The origin the browser believes it talks to (the proxy's https://), for Origin headers.
        self.origin = f"https://127.0.0.1:{port}" if behind_proxy else self.base_url
        self.env = {
            **env,
            "PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_PROC_NAME": f"idp-bench-{port}",
        }
        if settings_module:
            self.env["DJANGO_SETTINGS_MODULE"] = settings_module
        folder = Path(env.get("IDP_VAR_DIR", "."))
        self.log = log or folder / f"gunicorn-{port}.log"
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "idp_site.wsgi:application"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends master and workers together
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn on {self.port} exited: {self.log_tail()}")
            try:
                answer = requests.get(f"{self.base_url}/healthz", timeout=5)
                if answer.status_code == 200 and len(self.worker_pids()) >= self.workers:
                    return
                last = f"{answer.status_code} {answer.text[:300]}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(0.2)
        raise RuntimeError(
            f"gunicorn on {self.port} not healthy after {self.startup_timeout}s ({last}): {self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # --- resources, from /proc ---

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        master = str(self.process.pid)
        workers = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _stat(int(entry))
                if fields and fields[1] == master:  # field 4: ppid
                    workers.append(int(entry))
        return sorted(workers)

    def pids(self) -> list[int]:
        """The master and its live workers."""
        return [self.process.pid, *self.worker_pids()] if self.process else []

    def cpu_seconds(self) -> float:
        """User + system CPU of master and live workers, plus workers that exited (the master's
        cutime/cstime: gunicorn reaps them, e.g. after max_requests). Take the difference of two
        readings around a measured window."""
        if self.process is None:
            return 0.0
        ticks = 0
        master = _stat(self.process.pid)
        if master:
            ticks += sum(int(v) for v in master[11:15])  # utime, stime, cutime, cstime
        for pid in self.worker_pids():
            fields = _stat(pid)
            if fields:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / CLOCK_TICK

    def peak_rss_per_worker(self) -> dict[int, int]:
        """VmHWM (peak resident set, bytes) of each live worker, by pid."""
        peaks = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) * 1024
            except OSError:
                continue
        return peaks

    # --- clients ---

    def new_session(self) -> requests.Session:
        return new_session(self.behind_proxy)


class Site(Protocol):
    """What the flow driver needs: a Server, or anything shaped like one."""

    base_url: str
    origin: str

    def new_session(self) -> requests.Session: ...


class _ProxyHopSession(requests.Session):
    """Sends Secure cookies over the plain-HTTP loopback hop (the proxy's side of TLS).

    A cookie policy on the jar would not do: requests merges cookies into a fresh jar with the
    default policy for every request. Clearing the flag before each request does."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        for cookie in self.cookies:
            cookie.secure = False
        return super().prepare_request(request)


def new_session(behind_proxy: bool = True) -> requests.Session:
    """A fresh browser: its own cookies, no environment proxies."""
    session = _ProxyHopSession() if behind_proxy else requests.Session()
    session.trust_env = False
    if behind_proxy:
        session.headers["X-Forwarded-Proto"] = "https"
    return session


# --- one complete authorization -----------------------------------------------------------------------


@dataclass
class Step:
    seconds: float
    status: int
    sql: int | None  # from X-SQL-Count; None when the server does not send it
    cpu: float | None = None  # server CPU seconds for the request, from X-CPU-Time; None without it


@dataclass
class FlowResult:
    ok: bool
    steps: dict[str, Step] = field(default_factory=dict)  # in the order they ran
    error: str | None = None  # "<step>: <status> <what>"
    tokens: dict | None = None  # the token response (access_token, refresh_token, id_token...)
    totp_step: int | None = None  # the TOTP time step whose code was spent

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps.values())

    @property
    def sql(self) -> int | None:
        counts = [s.sql for s in self.steps.values()]
        return None if not counts or None in counts else sum(counts)

    @property
    def cpu(self) -> float | None:
        """Server CPU seconds of the whole flow, from the per-request header."""
        times = [s.cpu for s in self.steps.values()]
        return None if not times or None in times else sum(times)


class _Inputs(HTMLParser):
    """Hidden inputs (name -> value), radio buttons (name -> values) and form actions (id -> URL) of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.actions: dict[str, str] = {}
        self.feed(text)

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


class FlowError(Exception):
    pass


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_path(client: OAuthClient, challenge: str, state: str, scope: str = "openid profile email") -> str:
    return "/o/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


def complete_authorization(
    site: Site,
    account: Account,
    client: OAuthClient,
    *,
    second_factor: bool = True,
    scope: str = "openid profile email",
    timeout: float = 120,
) -> FlowResult:
    """authorize → login → [challenge] → consent → token, as a browser plus a relying party would.

    Steps (``FlowResult.steps``, see ``STEPS``): ``authorize`` (GET, redirect to login), ``login_get``
    (the login page), ``login`` (password POST, which answers with the challenge page itself:
    ``mfa_oauth.oauth.after_login``), then with ``second_factor`` ``challenge_post`` (TOTP code, to
    the page's form action; before it ``challenge_get`` for a login that redirects to the challenge,
    and ``mfa_redirect`` too for one that redirects to the authorize URL, which then redirects there);
    then ``consent_get``, ``consent_post`` (the code in the redirect) and ``token`` (the code
    redeemed with PKCE; a confidential client authenticates with HTTP Basic). Every request of the
    flow is a step, so the sums are the flow's totals. Never raises for an HTTP answer: a wrong one
    ends the flow with ``ok=False`` and ``error`` naming the step and status.
    """
    result = FlowResult(ok=False)
    session = site.new_session()
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)

    def step(name: str, method: str, url: str, expect: tuple[int, ...], **kwargs) -> requests.Response:
        if method == "POST":
            kwargs.setdefault("headers", {})["Origin"] = site.origin
        started = time.perf_counter()
        try:
            answer = session.request(
                method, urljoin(site.base_url, url), allow_redirects=False, timeout=timeout, **kwargs
            )
        except requests.RequestException as error:
            raise FlowError(f"{name}: {type(error).__name__} {error}") from None
        sql, cpu = answer.headers.get(SQL_HEADER), answer.headers.get(CPU_HEADER)
        result.steps[name] = Step(
            time.perf_counter() - started,
            answer.status_code,
            int(sql) if sql else None,
            float(cpu) / 1000 if cpu else None,
        )
        if answer.status_code not in expect:
            where = answer.headers.get("Location", "") or answer.text[:200].replace("\n", " ")
            raise FlowError(f"{name}: {answer.status_code} {method} {urlsplit(url).path} -> {where}")
        return answer

    def location(answer: requests.Response, name: str, prefix: str) -> str:
        target = answer.headers.get("Location", "")
        if not urlsplit(target).path.startswith(prefix) and not target.startswith(prefix):
            raise FlowError(f"{name}: {answer.status_code} to {target!r}, expected {prefix}")
        return target

    try:
        start = authorize_path(client, challenge, state, scope)
        answer = step("authorize", "GET", start, (302,))
        login_url = location(answer, "authorize", "/accounts/login/")
        page = step("login_get", "GET", login_url, (200,))
        fields = {**_Inputs(page.text).hidden, "username": account.username, "password": account.password}
        answer = step("login", "POST", login_url, (200, 302) if second_factor else (302,), data=fields)
        if second_factor:
            if answer.status_code == 200:  # the challenge page as the login's answer (after_login)
                inputs = _Inputs(answer.text)
                verify_url = inputs.actions.get("mfa-verify-form", "")
                if urlsplit(verify_url).path != "/mfa/verify/":
                    raise FlowError(f"login: 200 without the challenge form posting to /mfa/verify/: {verify_url!r}")
            else:
                if urlsplit(answer.headers.get("Location", "")).path == "/mfa/verify/":
                    verify_url = answer.headers["Location"]  # a login that redirects to the challenge
                else:  # a login view without mfa_oauth.oauth.after_login: the authorize URL redirects there
                    answer = step("mfa_redirect", "GET", location(answer, "login", "/o/authorize/"), (302,))
                    verify_url = location(answer, "mfa_redirect", "/mfa/verify/")
                inputs = _Inputs(step("challenge_get", "GET", verify_url, (200,)).text)
            if not inputs.hidden.get("device"):  # the one code field names the factor it tries first
                raise FlowError("challenge_get: 200 without a code form")
            now = time.time()
            result.totp_step = int(now) // TOTP_PERIOD
            code = account.totp().at(now)
            form = {**inputs.hidden, "token": code, "action": "verify"}
            answer = step("challenge_post", "POST", verify_url, (302, 303), data=form)
            next_url = location(answer, "challenge_post", "/o/authorize/")
        else:
            next_url = location(answer, "login", "/o/authorize/")
        page = step("consent_get", "GET", next_url, (200,))
        if 'id="authorizationForm"' not in page.text:
            raise FlowError("consent_get: 200 without the consent form: " + page.text[:200].replace("\n", " "))
        answer = step(
            "consent_post", "POST", next_url, (302,), data={**_Inputs(page.text).hidden, "allow": "Authorize"}
        )
        callback = location(answer, "consent_post", client.redirect_uri)
        query = parse_qs(urlsplit(callback).query)
        if query.get("state") != [state] or "code" not in query:
            raise FlowError(f"consent_post: callback without the code or state: {callback[:200]}")
        data = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
        }
        auth = None
        if client.client_secret:
            auth = (client.client_id, client.client_secret)
        else:
            data["client_id"] = client.client_id
        # The relying party's back channel: its own connection, no browser cookies.
        session.close()
        session = site.new_session()
        answer = step("token", "POST", "/o/token/", (200,), data=data, auth=auth)
        result.tokens = answer.json()
        if "access_token" not in result.tokens:
            raise FlowError(f"token: 200 without an access_token: {answer.text[:200]}")
        result.ok = True
    except FlowError as error:
        result.error = str(error)
    finally:
        session.close()
    return result


def flow_task(
    site: Site, pool: AccountPool, client: OAuthClient, *, second_factor: bool = True
) -> Callable[[], FlowResult]:
    """A task for :func:`run_concurrently`: one complete authorization with an account from ``pool``."""

    def task() -> FlowResult:
        account = pool.acquire()
        result = None
        try:
            result = complete_authorization(site, account, client, second_factor=second_factor)
            return result
        finally:
            pool.release(account, result.totp_step if result else AccountPool.current_step())

    return task


# --- concurrent users -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


@dataclass
class LoadResult:
    users: int
    duration: float
    wall: float = 0.0  # from the first start to the last user's last flow (flows in flight finish)
    completed: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)  # the first few
    step_seconds: dict[str, list[float]] = field(default_factory=dict)
    step_sql: dict[str, list[int]] = field(default_factory=dict)
    flow_seconds: list[float] = field(default_factory=list)
    flow_sql: list[int] = field(default_factory=list)
    step_cpu: dict[str, list[float]] = field(default_factory=dict)  # server CPU seconds per request
    flow_cpu: list[float] = field(default_factory=list)
    client_cpu_seconds: float = 0.0  # the load generator's own CPU (this process)
    per_user: list[int] = field(default_factory=list)  # completed flows of each simulated user

    @property
    def rate(self) -> float:
        """Completed flows per wall-clock second."""
        return self.completed / self.wall if self.wall else 0.0

    def p50(self, step: str) -> float:
        return percentile(self.step_seconds.get(step, []), 50)

    def p95(self, step: str) -> float:
        return percentile(self.step_seconds.get(step, []), 95)

    def add(self, result: FlowResult, keep_messages: int = 10) -> None:
        if not result.ok:
            self.errors += 1
            if len(self.error_messages) < keep_messages:
                self.error_messages.append(result.error or "unknown error")
            return
        self.completed += 1
        self.flow_seconds.append(result.seconds)
        if result.sql is not None:
            self.flow_sql.append(result.sql)
        if result.cpu is not None:
            self.flow_cpu.append(result.cpu)
        for name, s in result.steps.items():
            self.step_seconds.setdefault(name, []).append(s.seconds)
            if s.sql is not None:
                self.step_sql.setdefault(name, []).append(s.sql)
            if s.cpu is not None:
                self.step_cpu.setdefault(name, []).append(s.cpu)

    def report(self, server_cpu: float | None = None, peak_rss: dict[int, int] | None = None) -> str:
        """The figures as text lines (for a log)."""
        lines = [
            f"{self.users} users, {self.duration:.0f}s (wall {self.wall:.1f}s): {self.completed} flows, "
            f"{self.errors} errors, {self.rate:.2f} flows/s",
        ]
        if server_cpu:
            lines.append(
                f"server CPU {server_cpu:.1f}s = {server_cpu / self.wall:.2f} cores busy; "
                f"{self.completed / server_cpu:.2f} flows per server CPU-second; "
                f"{1000 * server_cpu / max(1, self.completed):.1f} ms CPU per flow"
            )
        lines.append(f"load generator CPU {self.client_cpu_seconds:.1f}s")
        if peak_rss:
            lines.append("peak RSS per worker: " + ", ".join(f"{v / 2**20:.0f} MiB" for v in peak_rss.values()))

        def row(name: str, seconds: list[float], sql: list[int] | None, cpu: list[float] | None) -> str:
            sql_text = f"{statistics.median(sql):g}" if sql else "-"
            cpu_text = f"{1000 * statistics.median(cpu):.1f}" if cpu else "-"
            return (
                f"{name:<15} {1000 * percentile(seconds, 50):9.1f} {1000 * percentile(seconds, 95):9.1f} "
                f"{sql_text:>5} {cpu_text:>8}"
            )

        if self.flow_seconds:
            lines.append(f"{'step':<15} {'p50 ms':>9} {'p95 ms':>9} {'SQL':>5} {'CPU ms':>8}   (SQL, CPU: medians)")
            lines.append(row("whole flow", self.flow_seconds, self.flow_sql, self.flow_cpu))
        for name in [s for s in STEPS if s in self.step_seconds] + [s for s in self.step_seconds if s not in STEPS]:
            lines.append(row(name, self.step_seconds[name], self.step_sql.get(name), self.step_cpu.get(name)))
        lines.extend(f"error: {m}" for m in self.error_messages)
        return "\n".join(lines)


def run_concurrently(task: Callable[[], FlowResult], *, users: int, duration: float) -> LoadResult:
    """``users`` threads, each running ``task`` back to back until ``duration`` seconds have passed.

    A flow running at the deadline finishes and counts (cutting it off would be an error of ours,
    not the server's), so ``wall`` can exceed ``duration``; rates divide by ``wall``.
    """
    result = LoadResult(users=users, duration=duration, per_user=[0] * users)
    lock = threading.Lock()
    start_gate = threading.Barrier(users + 1)
    deadline = 0.0

    def user(index: int) -> None:
        start_gate.wait()
        while time.monotonic() < deadline:
            try:
                outcome = task()
            except Exception as error:  # the driver's own failure (e.g. an exhausted pool) is an error too
                outcome = FlowResult(ok=False, error=f"task: {type(error).__name__}: {error}")
            with lock:
                result.add(outcome)
                result.per_user[index] += outcome.ok

    threads = [threading.Thread(target=user, args=(i,), name=f"bench-user-{i}", daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    deadline = started + duration
    start_gate.wait()
    for thread in threads:
        thread.join()
    result.wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return result


# --- signed-in browsers and pre-minted codes (bench/run.py's token-endpoint figures) -------------------


def signed_in_session(
    site: Site, account: Account, client: OAuthClient, *, second_factor: bool = True, timeout: float = 120
) -> tuple[requests.Session, int | None]:
    """A browser that has passed login (and the TOTP challenge): its session, and the TOTP step spent.

    Through the authorize endpoint, as :func:`complete_authorization`, so the session holds whatever
    the gate records; afterwards :func:`mint_code` gets codes without another password or code.
    Raises :class:`FlowError` on a wrong answer.
    """
    session = site.new_session()
    totp_step = None

    def go(method: str, url: str, expect: int, **kwargs) -> requests.Response:
        if method == "POST":
            kwargs.setdefault("headers", {})["Origin"] = site.origin
        answer = session.request(method, urljoin(site.base_url, url), allow_redirects=False, timeout=timeout, **kwargs)
        if answer.status_code != expect:
            raise FlowError(f"sign-in: {answer.status_code} {method} {urlsplit(url).path}, expected {expect}")
        return answer

    _, challenge = pkce_pair()
    start = authorize_path(client, challenge, secrets.token_urlsafe(12))
    login_url = go("GET", start, 302).headers["Location"]
    page = go("GET", login_url, 200)
    fields = {**_Inputs(page.text).hidden, "username": account.username, "password": account.password}
    if not second_factor:
        go("POST", login_url, 302, data=fields)
    else:
        # The challenge page as the login's answer (mfa_oauth.oauth.after_login); its form posts to /mfa/verify/.
        inputs = _Inputs(go("POST", login_url, 200, data=fields).text)
        verify_url = inputs.actions.get("mfa-verify-form", "")
        now = time.time()
        totp_step = int(now) // TOTP_PERIOD
        form = {**inputs.hidden, "token": account.totp().at(now)}
        answer = session.post(
            urljoin(site.base_url, verify_url),
            data=form,
            headers={"Origin": site.origin},
            allow_redirects=False,
            timeout=timeout,
        )
        if answer.status_code not in (302, 303):
            raise FlowError(f"sign-in: challenge answered {answer.status_code}")
    return session, totp_step


def mint_code(site: Site, session: requests.Session, client: OAuthClient, timeout: float = 120) -> tuple[str, str]:
    """One authorization code (consent page, then allow) for a signed-in session: (code, PKCE verifier)."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    url = urljoin(site.base_url, authorize_path(client, challenge, state))
    page = session.get(url, allow_redirects=False, timeout=timeout)
    if page.status_code != 200 or 'id="authorizationForm"' not in page.text:
        raise FlowError(f"mint: consent page answered {page.status_code} {page.headers.get('Location', '')}")
    answer = session.post(
        url,
        data={**_Inputs(page.text).hidden, "allow": "Authorize"},
        headers={"Origin": site.origin},
        allow_redirects=False,
        timeout=timeout,
    )
    query = parse_qs(urlsplit(answer.headers.get("Location", "")).query)
    if answer.status_code != 302 or query.get("state") != [state] or "code" not in query:
        raise FlowError(f"mint: consent answered {answer.status_code} {answer.headers.get('Location', '')[:120]}")
    return query["code"][0], verifier


def map_concurrently(items: list, users: int, work: Callable) -> tuple[list, list[str], float]:
    """``work(item)`` for every item by ``users`` threads: (results of the ones that worked, errors, wall).

    For a fixed batch (pre-minted codes to redeem), where :func:`run_concurrently` runs for a duration.
    An exception from ``work`` is one error (its text kept), not the end of the batch."""
    results, errors, lock = [], [], threading.Lock()
    pending = iter(items)

    def user() -> None:
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                return
            try:
                outcome = work(item)
            except Exception as error:  # an error answer of the server: counted, the run goes on
                with lock:
                    errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(users)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors, time.monotonic() - started
