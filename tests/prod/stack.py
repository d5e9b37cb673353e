"""Two gunicorn web nodes started as production would start them, sharing PostgreSQL and Redis.

Each node is ``gunicorn -c deploy/gunicorn.conf.py`` with ``IDP_PRODUCTION=1``, serving HTTPS
with a throw-away CA (so Secure ``__Host-`` cookies and HSTS behave as in production), on its
own port. The database is created fresh for the run and dropped afterwards.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

from idp_site.ops.tls import make_certificates

from .envs import PYTHON, ROOT, production_env


@dataclass
class Node:
    url: str
    process: subprocess.Popen
    log: Path

    def log_entries(self) -> list[dict]:
        entries = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
        return entries


@dataclass
class Stack:
    env: dict[str, str]
    ca: Path
    database: str
    admin_url: str
    nodes: list[Node] = field(default_factory=list)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=180
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def audit(self, event: str, username: str) -> list[dict]:
        return [
            e
            for node in self.nodes
            for e in node.log_entries()
            if e.get("event") == event and e.get("username") == username
        ]

    def stop(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)  # graceful: finish requests in flight
        for node in self.nodes:
            try:
                node.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()
        _admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def _admin(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


def start(
    folder: Path, postgres_url: str, redis_url: str, ports: tuple[int, ...], database: str, **settings: str
) -> Stack:
    parts = urlsplit(postgres_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    database_url = urlunsplit(parts._replace(path=f"/{database}"))
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin(admin_url, f'CREATE DATABASE "{database}"')
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # our own Redis database number only

    tls = make_certificates(folder / "tls", ["127.0.0.1", "localhost"])
    origins = [f"https://127.0.0.1:{port}" for port in ports]
    env = production_env(
        folder,
        DATABASE_URL=database_url,
        CACHE_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS=",".join(origins),
        OIDC_ISS_ENDPOINT=f"{origins[0]}/o",
        TLS_CERT_FILE=str(tls["cert"]),
        TLS_KEY_FILE=str(tls["key"]),
        REQUESTS_CA_BUNDLE=str(tls["ca"]),
        DEMO_CLIENT_SECRET=secrets.token_urlsafe(24),
        WEB_CONCURRENCY="2",
        WEBAUTHN_RP_ID="localhost",
        WEBAUTHN_ORIGINS=",".join(f"https://localhost:{port}" for port in ports),
        **settings,
    )
    stack = Stack(env=env, ca=tls["ca"], database=database, admin_url=admin_url)
    try:
        stack.manage("migrate", "--noinput", "-v0")
        stack.manage("collectstatic", "--noinput", "-v0")
        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        for port in ports:
            log = folder / f"node-{port}.log"
            process = subprocess.Popen(
                [gunicorn, "-c", "deploy/gunicorn.conf.py", "idp_site.wsgi:application"],
                env={**env, "PORT": str(port), "GUNICORN_PROC_NAME": f"idp-node-{port}"},
                cwd=ROOT,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            stack.nodes.append(Node(f"https://127.0.0.1:{port}", process, log))
        for node in stack.nodes:
            wait_healthy(node, stack.ca)
    except BaseException:
        stack.stop()
        raise
    return stack


def wait_healthy(node: Node, ca: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"{node.url} exited: {node.log.read_text()[-3000:]}")
        try:
            if requests.get(f"{node.url}/healthz", verify=str(ca), timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{node.url} not healthy after {timeout}s: {node.log.read_text()[-3000:]}")
