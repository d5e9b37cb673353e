"""The peers of the benchmark, from the driver's side: their venvs, databases, gunicorn and flows.

Each peer (``bench/peers/<name>/``: settings, urls, ``requirements.txt``) runs in a venv of its own,
made by :func:`venv` from that requirements file under the temporary directory (reused while the file
is unchanged), never in the project's venv. :func:`deploy` migrates and seeds a fresh SQLite file;
:class:`PeerServer` serves it with gunicorn (2 sync workers, like deploy/gunicorn.conf.py: preloaded
app, X-Forwarded-* trusted from loopback). :func:`allauth_flow` and :func:`two_factor_flow` are the
browser + relying party of one complete authorization, with the step names of ``bench.harness.STEPS``;
:func:`verify` proves, before anything is timed, that a peer asks for the TOTP code, refuses a wrong
one and issues an id_token that verifies against its JWKS.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from bench import harness, seed

PEERS_DIR = Path(__file__).resolve().parent
VENVS = Path(os.environ.get("BENCH_PEER_VENVS", Path(tempfile.gettempdir()) / "mfa_oauth-bench-venvs"))
NAMES = ("allauth", "two_factor")
TITLES = {"allauth": "allauth", "two_factor": "two-factor-auth + DOT"}


def venv(name: str, log=print) -> Path:
    """The peer's venv (its python), created and filled from ``bench/peers/<name>/requirements.txt``."""
    requirements = PEERS_DIR / name / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    folder = VENVS / f"{name}-{digest}"
    python = folder / "bin" / "python"
    if (folder / ".installed").exists():
        return python
    log(f"peer {name}: creating {folder} from {requirements.relative_to(harness.ROOT)}")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], check=True)
    (folder / ".installed").write_text(digest)
    return python


def rsa_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class PeerDeployment:
    name: str
    python: Path
    env: dict[str, str]
    accounts: list[harness.Account]
    clients: dict[str, harness.OAuthClient]

    def run(self, *args: str, timeout: float = 300) -> str:
        return harness._run([str(self.python), *args], self.env, timeout)


@contextmanager
def deploy(name: str, folder: Path, *, accounts: int, log=print):
    python = venv(name, log)
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(folder)),
        "PYTHONPATH": str(harness.ROOT),
        "DJANGO_SETTINGS_MODULE": f"bench.peers.{name}.settings",
        "PEER_VAR_DIR": str(folder),
        "PEER_SECRET_KEY": secrets.token_urlsafe(50),
        "PEER_RSA_PRIVATE_KEY": rsa_key_pem(),
    }
    deployment = PeerDeployment(name, python, env, [], {})
    deployment.run("-m", "django", "migrate", "--noinput", "-v0")
    data = json.loads(
        deployment.run("-m", "bench.peers.seed", "--accounts", str(accounts), "--redirect-uri", harness.REDIRECT_URI)
        .strip()
        .splitlines()[-1]
    )
    deployment.accounts = [
        harness.Account(seed.username(i), data["password"], seed.totp_key_hex(seed.username(i)))
        for i in range(data["accounts"])
    ]
    deployment.clients = {
        role: harness.OAuthClient(c["client_id"], c["client_secret"], c["redirect_uri"])
        for role, c in data["clients"].items()
    }
    yield deployment


class PeerServer(harness.Server):
    """gunicorn from the peer's venv with deploy/gunicorn.conf.py's settings that matter here (sync workers,
    preloaded app, X-Forwarded-* from loopback, keep-alive 5 s, an access log line per request)."""

    def __init__(self, deployment: PeerDeployment, *, port: int, workers: int = 2):
        super().__init__(deployment.env, port=port, workers=workers)
        self.python = deployment.python
        self.log = Path(deployment.env["PEER_VAR_DIR"]) / f"gunicorn-{port}.log"

    def start(self) -> None:
        command = [
            str(self.python), "-m", "gunicorn", "bench.peers.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--worker-class", "sync",
            "--preload", "--timeout", "30", "--keep-alive", "5", "--forwarded-allow-ips", "127.0.0.1",
            "--name", f"peer-bench-{self.port}", "--access-logfile", "-",  # a line per request, as ours
        ]  # fmt: skip
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=harness.ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise


# --- the flows -----------------------------------------------------------------------------------------


class _Form(HTMLParser):
    """Inputs of a page's forms: hidden (name -> value), checked checkboxes (name -> values), radios."""

    def __init__(self, text: str):
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.checked: dict[str, list[str]] = {}
        self.names: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag != "input" or not a.get("name"):
            return
        self.names.add(a["name"])
        if a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value") or ""
        elif a.get("type") == "checkbox" and "checked" in a:
            self.checked.setdefault(a["name"], []).append(a.get("value") or "on")


class _Flow:
    """One browser's requests, each recorded as a step of ``result`` (as in harness.complete_authorization)."""

    def __init__(self, site: harness.Site, timeout: float = 120):
        self.site, self.timeout = site, timeout
        self.session = site.new_session()
        self.result = harness.FlowResult(ok=False)

    def step(self, name: str, method: str, url: str, expect: tuple[int, ...], **kwargs) -> requests.Response:
        if method == "POST":
            kwargs.setdefault("headers", {})["Origin"] = self.site.origin
        started = time.perf_counter()
        try:
            answer = self.session.request(
                method, urljoin(self.site.base_url, url), allow_redirects=False, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise harness.FlowError(f"{name}: {type(error).__name__} {error}") from None
        sql, cpu = answer.headers.get(harness.SQL_HEADER), answer.headers.get(harness.CPU_HEADER)
        seconds = time.perf_counter() - started
        self.result.steps[name] = harness.Step(
            seconds, answer.status_code, int(sql) if sql else None, float(cpu) / 1000 if cpu else None
        )
        if answer.status_code not in expect:
            where = answer.headers.get("Location", "") or answer.text[:200].replace("\n", " ")
            raise harness.FlowError(f"{name}: {answer.status_code} {method} {urlsplit(url).path} -> {where}")
        return answer

    def back_channel(self) -> None:
        self.session.close()
        self.session = self.site.new_session()

    def code_from(self, answer: requests.Response, client: harness.OAuthClient, state: str) -> str:
        target = answer.headers.get("Location", "")
        query = parse_qs(urlsplit(target).query)
        if not target.startswith(client.redirect_uri) or query.get("state") != [state] or "code" not in query:
            raise harness.FlowError(f"consent_post: callback without the code or state: {target[:200]}")
        return query["code"][0]


def _location(answer: requests.Response, name: str, prefix: str) -> str:
    target = answer.headers.get("Location", "")
    if not urlsplit(target).path.startswith(prefix):
        raise harness.FlowError(f"{name}: {answer.status_code} to {target!r}, expected {prefix}")
    return target


def _code(account: harness.Account, result: harness.FlowResult, wrong: bool) -> str:
    now = time.time()
    code = account.totp().at(now)
    if wrong:
        return f"{(int(code) + 1) % 1_000_000:06d}"
    result.totp_step = int(now) // harness.TOTP_PERIOD
    return code


def allauth_flow(
    site: harness.Site, account: harness.Account, client: harness.OAuthClient, *, wrong_code: bool = False
) -> harness.FlowResult:
    """authorize -> /accounts/login/ -> /accounts/2fa/authenticate/ (TOTP) -> consent -> token (allauth)."""
    flow = _Flow(site)
    verifier, challenge = harness.pkce_pair()
    state = secrets.token_urlsafe(12)
    start = harness.authorize_path(client, challenge, state).replace("/o/authorize/", "/identity/o/authorize", 1)
    try:
        login_url = _location(flow.step("authorize", "GET", start, (302,)), "authorize", "/accounts/login/")
        page = flow.step("login_get", "GET", login_url, (200,))
        form = {**_Form(page.text).hidden, "login": account.username, "password": account.password}
        answer = flow.step("login", "POST", login_url, (302,), data=form)
        verify_url = _location(answer, "login", "/accounts/2fa/authenticate/")
        page = flow.step("challenge_get", "GET", verify_url, (200,))
        form = {**_Form(page.text).hidden, "code": _code(account, flow.result, wrong_code)}
        answer = flow.step("challenge_post", "POST", verify_url, (200,) if wrong_code else (302,), data=form)
        if wrong_code:
            flow.result.error = "refused" if "code" in _Form(answer.text).names else "no form again"
            return flow.result
        next_url = _location(answer, "challenge_post", "/identity/o/authorize")
        page = flow.step("consent_get", "GET", next_url, (200,))
        form = _Form(page.text)
        if "request" not in form.hidden:
            raise harness.FlowError("consent_get: 200 without the consent form: " + page.text[:200])
        data = {**form.hidden, **form.checked, "action": "grant"}
        answer = flow.step("consent_post", "POST", "/identity/o/authorize", (302,), data=data)
        code = flow.code_from(answer, client, state)
        flow.back_channel()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
            "client_id": client.client_id,
        }
        flow.result.tokens = flow.step("token", "POST", "/identity/o/api/token", (200,), data=data).json()
        if "access_token" not in flow.result.tokens:
            raise harness.FlowError(f"token: 200 without an access_token: {flow.result.tokens}")
        flow.result.ok = True
    except harness.FlowError as error:
        flow.result.error = str(error)
    finally:
        flow.session.close()
    return flow.result


def two_factor_flow(
    site: harness.Site, account: harness.Account, client: harness.OAuthClient, *, wrong_code: bool = False
) -> harness.FlowResult:
    """authorize -> two_factor's login wizard (password step, token step) -> DOT consent -> token."""
    flow = _Flow(site)
    verifier, challenge = harness.pkce_pair()
    state = secrets.token_urlsafe(12)
    start = harness.authorize_path(client, challenge, state)
    try:
        login_url = _location(flow.step("authorize", "GET", start, (302,)), "authorize", "/account/login/")
        page = flow.step("login_get", "GET", login_url, (200,))
        form = {
            **_Form(page.text).hidden,
            "auth-username": account.username,
            "auth-password": account.password,
            "login_view-current_step": "auth",
        }
        # The wizard answers the password step with its token step (200): no challenge GET.
        page = flow.step("login", "POST", login_url, (200,), data=form)
        inputs = _Form(page.text)
        if "token-otp_token" not in inputs.names:
            raise harness.FlowError("login: 200 without the token step: " + page.text[:200])
        form = {
            **inputs.hidden,
            "token-otp_token": _code(account, flow.result, wrong_code),
            "login_view-current_step": "token",
        }
        answer = flow.step("challenge_post", "POST", login_url, (200,) if wrong_code else (302,), data=form)
        if wrong_code:
            flow.result.error = "refused" if "token-otp_token" in _Form(answer.text).names else "no form again"
            return flow.result
        next_url = _location(answer, "challenge_post", "/o/authorize/")
        page = flow.step("consent_get", "GET", next_url, (200,))
        if 'id="authorizationForm"' not in page.text:
            raise harness.FlowError("consent_get: 200 without the consent form: " + page.text[:200])
        answer = flow.step(
            "consent_post", "POST", next_url, (302,), data={**_Form(page.text).hidden, "allow": "Authorize"}
        )
        code = flow.code_from(answer, client, state)
        flow.back_channel()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
            "client_id": client.client_id,
        }
        flow.result.tokens = flow.step("token", "POST", "/o/token/", (200,), data=data).json()
        if "access_token" not in flow.result.tokens:
            raise harness.FlowError(f"token: 200 without an access_token: {flow.result.tokens}")
        flow.result.ok = True
    except harness.FlowError as error:
        flow.result.error = str(error)
    finally:
        flow.session.close()
    return flow.result


FLOWS = {"allauth": allauth_flow, "two_factor": two_factor_flow}
JWKS = {"allauth": "/.well-known/jwks.json", "two_factor": "/o/.well-known/jwks.json"}


def flow_task(name: str, site: harness.Site, pool: harness.AccountPool, client: harness.OAuthClient):
    def task() -> harness.FlowResult:
        account = pool.acquire()
        result = None
        try:
            result = FLOWS[name](site, account, client)
            return result
        finally:
            pool.release(account, result.totp_step if result else harness.AccountPool.current_step())

    return task


def verify(name: str, server: PeerServer, deployment: PeerDeployment, pool: harness.AccountPool) -> str:
    """Before timing: a wrong TOTP code is refused, the right one passes, the id_token verifies (jwcrypto)."""
    from jwcrypto import jwk, jwt

    client = deployment.clients["public"]
    account = pool.acquire()
    try:
        wrong = FLOWS[name](server, account, client, wrong_code=True)
    finally:
        pool.release(account, None)
    if wrong.error != "refused" or "consent_get" in wrong.steps:
        raise RuntimeError(f"peer {name}: a wrong TOTP code was not refused: {wrong.error}")
    account = pool.acquire()
    result = None
    try:
        result = FLOWS[name](server, account, client)
    finally:
        pool.release(account, result.totp_step if result else harness.AccountPool.current_step())
    if not result.ok:
        raise RuntimeError(f"peer {name}: the flow failed: {result.error}")
    if "challenge_post" not in result.steps:
        raise RuntimeError(f"peer {name}: no TOTP step in the flow")
    keys = jwk.JWKSet.from_json(requests.get(urljoin(server.base_url, JWKS[name]), timeout=30).text)
    token = jwt.JWT(
        jwt=result.tokens["id_token"],
        key=keys,
        algs=["RS256"],
        check_claims={"aud": client.client_id, "exp": None},
    )
    claims = json.loads(token.claims)
    return f"wrong TOTP code refused; id_token verified against the JWKS (sub {claims['sub']}, aud {claims['aud']})"


__all__ = ["NAMES", "TITLES", "PeerServer", "deploy", "flow_task", "verify", "re"]
