"""Write one audit row, then tell anyone listening (``audit_event_recorded``) so they can forward it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from ..adapter import get_adapter
from ..signals import audit_event_recorded
from .models import AuthEvent

logger = logging.getLogger("mfa_oauth.audit")


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR, or the trusted proxy's X-Forwarded-For entry (mfa_oauth.client_ip)."""
    return get_adapter().get_client_ip(request)


def record(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    actor: Any = None,
    device: Any = None,
    method: str = "",
    client_id: str = "",
    acr: str = "",
    amr: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> AuthEvent:
    if actor is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            actor = request_user
    if user is not None and not getattr(user, "pk", None):
        user = None
    event = AuthEvent.objects.create(
        kind=kind,
        user=user,
        username=(user.get_username() if user is not None else username)[:150],
        actor=actor,
        method=method[:32],
        device=(device.persistent_id if device is not None and device.pk else "")[:200],
        device_name=(getattr(device, "name", "") or "")[:64],
        ip=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
        client_id=client_id[:100],
        acr=acr[:64],
        amr=list(amr),
        detail=detail or {},
    )
    logger.debug("audit %s user=%s method=%s client=%s", kind, event.username, method, client_id)
    audit_event_recorded.send(sender=AuthEvent, event=event)
    return event
