"""The state the authorization view shares with the validator during one request.

oauthlib calls ``validate_silent_login``/``validate_silent_authorization`` with its own request
object, which knows nothing of the Django session. The authorization view evaluates the policy
first and publishes the result here for the duration of the DOT call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..policy import Decision


@dataclass(frozen=True)
class GateState:
    decision: Decision
    consent_given: bool
    # The client the view already loaded; the validator reuses it instead of querying again.
    application: Any = None


_current: ContextVar[GateState | None] = ContextVar("mfa_oauth_gate", default=None)


@contextmanager
def published(state: GateState) -> Iterator[None]:
    token = _current.set(state)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> GateState | None:
    return _current.get()
