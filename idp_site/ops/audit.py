"""Audit events as structured log lines (OWASP ASVS 16.3): one JSON line per audit row.

The audit app (mfa_oauth.audit) decides what an event is and writes one AuthEvent row per event,
never with a secret; this module only forwards each row to the ``mfa_oauth.audit`` logger through
the ``audit_event_recorded`` signal, so the database and the log always tell the same story.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("mfa_oauth.audit")


def describe(event) -> dict[str, Any]:
    fields: dict[str, Any] = {"event": event.kind, "at": event.at.isoformat() if event.at else ""}
    for name in ("username", "method", "device", "ip", "client_id", "acr"):
        value = getattr(event, name, "")
        if value:
            fields[name] = value
    if event.user_id is not None:
        fields["user_id"] = event.user_id
    if event.actor_id is not None and event.actor_id != event.user_id:
        fields["actor_id"] = event.actor_id
    if event.amr:
        fields["amr"] = list(event.amr)
    return fields


def summary(fields: dict[str, Any]) -> str:
    """The human-readable message; the same fields stay machine-readable on the record."""
    return "audit " + " ".join(f"{k}={v}" for k, v in fields.items() if k != "at")


def log_event(sender, event=None, **kwargs) -> None:
    if event is None:
        return
    fields = describe(event)
    logger.info(summary(fields), extra=fields)


def connect() -> None:
    from mfa_oauth.signals import audit_event_recorded

    audit_event_recorded.connect(log_event, dispatch_uid="idp_ops.audit.log_event")
