"""The state the authorization view shares with the validator during one request.

oauthlib calls ``validate_silent_login``/``validate_silent_authorization`` with its own request
object, which knows nothing of the Django session. The authorization view evaluates the policy
first and publishes the result here for the duration of the DOT call.

Deny by default (docs/security.md, "Deny by default"): a code is issued only with the context of
a gate that ran in *this* request, said "satisfied" and was published for issuing
(:func:`approved_context`). Nothing falls back to the session's context: a path through DOT that
the gate did not see (a new HTTP method, a new DOT code path) finds no approval and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..context import AuthContext
from ..policy import Decision


@dataclass(frozen=True)
class GateState:
    decision: Decision
    consent_given: bool
    # The client the view already loaded; the validator reuses it instead of querying again.
    application: Any = None
    # The context the decision was made on (remembered factors only where vouched for): the one
    # an authorization code issued in this request records.
    context: AuthContext | None = None
    # False while DOT only validates the request (before the gate ran): nothing may be issued then.
    issuing: bool = False


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


def approved_context() -> AuthContext | None:
    """The context a code may be issued with in this request, or None (refuse)."""
    state = _current.get()
    if state is None or not state.issuing or not state.decision.satisfied:
        return None
    return state.context
