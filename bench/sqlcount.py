"""Bench-only middleware: SQL statements (``X-SQL-Count``) and server CPU (``X-CPU-Time``) of a request.

Installed by ``bench/settings_mfa.py`` (and the plain-DOT settings built on it) as the outermost
middleware, so the count includes the session save and everything else the other middleware do.
The CPU figure is the worker process's user + system time during the request, in milliseconds:
gunicorn's sync workers run one request at a time on one thread, so it is that request's cost
(password hash included), which the client cannot see in its latencies under queueing.
Never part of the site: headers like these tell an attacker how much work a request caused.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse

HEADER = "X-SQL-Count"
CPU_HEADER = "X-CPU-Time"


class SQLCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0
        cpu_started = time.process_time()

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1  # executemany counts once: one statement sent to the database
            return execute(sql, params, many, context)

        # Every configured alias, so a statement on a second database would not go unseen.
        wrapped = [connections[alias].execute_wrapper(counter) for alias in connections]
        for wrapper in wrapped:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrapped):
                wrapper.__exit__(None, None, None)
        response[HEADER] = str(count)
        response[CPU_HEADER] = f"{1000 * (time.process_time() - cpu_started):.3f}"
        return response
