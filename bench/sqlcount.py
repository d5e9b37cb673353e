"""Bench-only middleware: the number of SQL statements a request ran, in the ``X-SQL-Count`` header.

Installed by ``bench/settings_mfa.py`` (and the plain-DOT settings built on it) as the outermost
middleware, so the count includes the session save and everything else the other middleware do.
Never part of the site: a header like this tells an attacker how much work a request caused.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse

HEADER = "X-SQL-Count"


class SQLCountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

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
        return response
