"""Session lifetime: an idle limit and an absolute limit (NIST SP 800-63B-4 §2.2.3).

Defaults follow NIST SP 800-63B-4 §2.2.3 for AAL2: re-authentication after at most 1 hour without
activity and at most 24 hours after the login, however active the session (``SESSION_IDLE_TIMEOUT``
and ``SESSION_ABSOLUTE_TIMEOUT`` in ``MFA_OAUTH``). Deviating from them is a documented choice
(ASVS 7.1.1). A session past either limit is logged out before the view runs, so the
authorization gate sees an anonymous user and asks for the password and the second factor again.

Place ``mfa_oauth.lifetime.SessionLifetimeMiddleware`` after Django's AuthenticationMiddleware.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .conf import settings as mfa_settings

STARTED_KEY = "mfa_oauth.session_started"
SEEN_KEY = "mfa_oauth.session_seen"
# Activity is recorded at most once a minute: the idle clock needs no finer grain, and a session
# write on every request would cost an UPDATE on the hot paths (authorize, consent).
SEEN_RESOLUTION = 60

log = logging.getLogger("mfa_oauth.lifetime")


@receiver(user_logged_in, dispatch_uid="mfa_oauth.lifetime.start")
def start_clock(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    # A new login restarts both clocks, also when the same user logs in again (prompt=login).
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[STARTED_KEY] = now
        request.session[SEEN_KEY] = now


def expired_reason(session: Any, now: int) -> str:
    """Why a logged-in session must end now: "idle", "absolute", or "" when it may go on."""
    started = session.get(STARTED_KEY)
    seen = session.get(SEEN_KEY)
    if not isinstance(started, int) or not isinstance(seen, int):
        return ""
    idle = mfa_settings.SESSION_IDLE_TIMEOUT
    absolute = mfa_settings.SESSION_ABSOLUTE_TIMEOUT
    if absolute is not None and now - started > int(absolute):
        return "absolute"
    if idle is not None and now - seen > int(idle):
        return "idle"
    return ""


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            reason = expired_reason(session, now)
            if reason:
                log.info("session of user %s ended: %s timeout", user.pk, reason)
                logout(request)
            else:
                if STARTED_KEY not in session:
                    # A session from before this middleware was installed: its clock starts now.
                    session[STARTED_KEY] = now
                if now - session.get(SEEN_KEY, 0) >= SEEN_RESOLUTION:
                    session[SEEN_KEY] = now
        return self.get_response(request)
