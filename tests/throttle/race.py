"""Run one call from many threads released at the same instant."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.core.cache import caches

from mfa_oauth.throttle import counters


def race(calls: list) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        finally:
            # Each thread has its own cache connection (Django's handler is per thread): close it.
            caches.close_all()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def guess(username: str, address):
    """One wrong password's worth of throttle: counted, never settled. "checked" or "refused"."""

    def call():
        try:
            counters.begin(username, address)
        except counters.LoginThrottled:
            return "refused"
        return "checked"

    return call


def outcomes(results: list) -> Counter:
    return Counter(results)
