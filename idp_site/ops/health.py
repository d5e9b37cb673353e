"""Is this node able to serve? Database, cache and broker, each checked for real, each named.

Used by ``/healthz`` (load balancers, orchestrators) and ``manage.py preflight`` (start-up).
A problem is reported by dependency name and exception class only: no URL, host or password
reaches the HTTP answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections

TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def as_text(self) -> str:
        return "ok" + (f" ({self.detail})" if self.detail else "") if self.ok else f"down ({self.detail})"


def check_database() -> Check:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "cannot serve"
        connections["default"].close_if_unusable_or_obsolete()
        return Check("database", False, type(error).__name__)
    return Check("database", True, connections["default"].vendor)


def check_cache() -> Check:
    key = "idp:healthz:" + secrets.token_hex(4)
    try:
        cache.set(key, "1", timeout=10)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as error:  # redis-py raises ConnectionError/TimeoutError
        return Check("cache", False, type(error).__name__)
    if not ok:
        return Check("cache", False, "value not read back")
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return Check("cache", True, backend)


def check_broker() -> Check:
    from idp_site.celery import app

    if app.conf.task_always_eager:
        return Check("broker", True, "eager: tasks run in the web process")
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)
            transport = connection.transport_cls
    except Exception as error:  # kombu wraps transport errors in OperationalError
        return Check("broker", False, type(error).__name__)
    return Check("broker", True, str(transport))


def run_all() -> list[Check]:
    return [check_database(), check_cache(), check_broker()]
