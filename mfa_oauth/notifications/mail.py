"""Render and send one notification through Django's email framework.

Templates live at ``mfa_oauth/notifications/<kind>_subject.txt`` and ``<kind>_body.txt``; a project
overrides them like any other template; the adapter's ``send_notification`` may deliver them another
way. Settings (all optional), in ``MFA_OAUTH["NOTIFICATIONS"]``:

- ``ENABLED`` (default True)
- ``SITE_NAME`` (default "mfa_oauth"), shown in subject and body
- ``RECIPIENTS``: dotted path to ``f(user) -> list[str]``; default: the user's email address.
  NIST SP 800-63B-4 §4.6 asks for at least two addresses where a site has them; a project with a
  second address field points this at a function that returns both.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from ..adapter import get_adapter
from ..conf import settings as mfa_settings

logger = logging.getLogger("mfa_oauth.notifications")

KINDS = ("factor_added", "factor_removed", "backup_codes_generated", "backup_code_used", "locked")


def _options() -> dict[str, Any]:
    return dict(mfa_settings.NOTIFICATIONS)


def recipients(user: Any) -> list[str]:
    path = _options()["RECIPIENTS"]
    if path:
        return [a for a in import_string(path)(user) if a]
    email = getattr(user, "email", "")
    return [email] if email else []


def notify(kind: str, user: Any, *, request: HttpRequest | None = None, **context: Any) -> bool:
    """Send the ``kind`` notification to ``user``; False when disabled or there is nobody to tell.

    A mail server failure is logged and never breaks the request that caused the notification."""
    options = _options()
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    to = recipients(user) if options["ENABLED"] and user is not None else []
    if not to:
        return False
    meta = request.META if request is not None else {}
    context = {
        "user": user,
        "site_name": options["SITE_NAME"],
        "when": timezone.now(),
        "ip": get_adapter().get_client_ip(request) or "",
        "user_agent": meta.get("HTTP_USER_AGENT", "")[:200],
        **context,
    }
    try:
        get_adapter().send_notification(kind, user, to=to, context=context, request=request)
    except Exception:  # SMTP errors come in many types; a notification must never fail the request
        logger.exception("could not send the %s notification to user %s", kind, getattr(user, "pk", None))
        return False
    return True
