"""Access to the real services some tests need (Redis, PostgreSQL, Chromium).

A test that needs one asks for the fixture; without the service it is skipped with the reason,
except under CI=true, where a missing service is a failure.

Two suites may run on one machine at once (two checkouts, or CI beside a developer), so nothing a run
uses is fixed: each run starts its own Redis server (the real ``redis-server`` binary) on a free port,
where every Redis database number is its own; PostgreSQL databases a test creates carry the run's id
(``run_scoped``); servers a test starts listen on free ports (``free_port``). ``TEST_REDIS_URL`` set
by hand points the run at a Redis of the caller's choosing instead.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
# One id per run, inherited by the processes the run starts (a live server, a Celery worker).
RUN_ID = os.environ.setdefault("MFA_TEST_RUN_ID", f"{os.getpid()}{secrets.token_hex(2)}")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/idp")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=0.5):
            return True
    except OSError:
        return False


def missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_scoped(name: str) -> str:
    """``name`` made unique to this run, for a database a test creates and drops."""
    return f"{name}_{RUN_ID}"


_own_redis: dict[str, str] = {}


def _start_own_redis() -> str | None:
    """This run's Redis server on a free port, stopped when the run ends; None without the binary."""
    if "url" in _own_redis:
        return _own_redis["url"]
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    folder = tempfile.mkdtemp(prefix="mfa-test-redis-")
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
                "--databases",
                "16",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            if process.poll() is not None:
                break  # the port was taken in between: try another
            if _reachable(url, port):
                atexit.register(_stop, process)
                _own_redis["url"] = url
                return url
            time.sleep(0.05)
        _stop(process)
    return None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def require_redis(db: int | None = None) -> str:
    """A Redis URL (on database ``db``, 15 by default) of this run's own server, or skip/fail."""
    base = REDIS_URL or _start_own_redis()
    if not base:
        missing("redis-server is not installed (apt-get install redis-server) and TEST_REDIS_URL is not set")
    if not _reachable(base, 6379):
        missing(f"Redis is not reachable at {base}")
    parsed = urlparse(base)
    if db is None:
        return parsed._replace(path="/15").geturl() if not REDIS_URL else base
    return parsed._replace(path=f"/{db}").geturl()


def require_postgres() -> str:
    if not _reachable(POSTGRES_URL, 5432):
        missing(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return POSTGRES_URL


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
