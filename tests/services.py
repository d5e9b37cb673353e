"""Access to the real services some tests need (Redis, PostgreSQL, Chromium).

A test that needs one asks for the fixture; without the service it is skipped with the reason,
except under CI=true, where a missing service is a failure (.ci/run sets CI=true and starts the services).
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
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


def require_redis(db: int | None = None) -> str:
    """A Redis URL (optionally on database ``db``) or skip/fail."""
    if not _reachable(REDIS_URL, 6379):
        missing(f"Redis is not reachable at {REDIS_URL}")
    if db is None:
        return REDIS_URL
    parsed = urlparse(REDIS_URL)
    return parsed._replace(path=f"/{db}").geturl()


def require_postgres() -> str:
    if not _reachable(POSTGRES_URL, 5432):
        missing(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return POSTGRES_URL


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
