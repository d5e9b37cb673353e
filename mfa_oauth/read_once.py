"""A stretch of one request in which a row, once read, is read no more.

Several places of one request ask for the same row: a login's gate decision and the challenge page it
is answered with both want the client and the user's devices (``mfa_oauth.oauth.after_login``), and
DPoP's userinfo check wants the access token DOT is about to validate (``mfa_oauth.dpop.views``).
Inside :meth:`ReadOnce.scope` the first answer stands for the rest; outside it every call reads, so
nothing carries over from one request to the next, and nothing is remembered across a change the
scope's own code makes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any


class ReadOnce:
    def __init__(self, name: str) -> None:
        self._memo: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar(name, default=None)

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Within the block, :meth:`get` reads each key once."""
        token = self._memo.set({})
        try:
            yield
        finally:
            self._memo.reset(token)

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """``read()``'s answer for ``key``: the one already read within the scope, else read now."""
        memo = self._memo.get()
        if memo is None:
            return read()
        if key not in memo:
            memo[key] = read()
        return memo[key]
