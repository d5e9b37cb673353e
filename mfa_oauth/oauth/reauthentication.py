"""``prompt=login`` and ``max_age=0`` without logging anyone out (OIDC Core §3.1.2.1).

The authorization request that asks for a new login is answered with the login page, and the
request that continues the flow (the same authorize URL without ``prompt=login``/``max_age=0``) is
remembered in the session as *pending*. Until a login succeeds in this session, that continuation
is sent back to the login page; the login clears the mark (``mfa_oauth.receivers``). The existing
session stays signed in meanwhile, so a cross-site link carrying ``prompt=login`` costs the user
nothing but a login page (docs/security.md, "Re-authentication").
"""

from __future__ import annotations

from django.http import HttpRequest

PENDING_KEY = "mfa_oauth.reauthentication_pending"


def require(request: HttpRequest, continuation: str) -> None:
    """Mark ``continuation`` (a local authorize URL) as needing a login first."""
    request.session[PENDING_KEY] = continuation


def waiting(request: HttpRequest) -> str | None:
    """The continuation that still waits for the new login, if any (most sessions: None)."""
    return request.session.get(PENDING_KEY)


def satisfied(request: HttpRequest) -> None:
    """A login succeeded in this session: nothing waits any longer."""
    request.session.pop(PENDING_KEY, None)
