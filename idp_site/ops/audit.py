"""Audit events as structured log lines (SECURITY.md L1): one line per authentication step.

Every ``django.dispatch.Signal`` in :mod:`mfa_oauth.signals` is connected, so signals other
features append there are logged too, plus Django's login, logout and failed-login signals. Only
an allow-list of scalar fields is written: never a code, a password, a seed or a token.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import signals as auth_signals
from django.dispatch import Signal

logger = logging.getLogger("mfa_oauth.audit")

SAFE_FIELDS = ("method", "failure_count", "acr", "amr", "count", "status", "reason")


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wrote unless a proxy is trusted.
    return (getattr(request, "META", None) or {}).get("REMOTE_ADDR", "")


def describe(event: str, **kwargs: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"event": event}
    user = kwargs.get("user")
    if user is not None and getattr(user, "pk", None) is not None:
        fields["user_id"] = user.pk
        fields["username"] = user.get_username()
    request = kwargs.get("request")
    if request is not None:
        fields["ip"] = client_ip(request)
    device = kwargs.get("device")
    if device is not None and hasattr(device, "persistent_id"):
        fields["device"] = device.persistent_id
    application = kwargs.get("application")
    if application is not None:
        fields["client_id"] = getattr(application, "client_id", str(application))
    for name in SAFE_FIELDS:
        value = kwargs.get(name)
        if isinstance(value, (str, int, float, bool)) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        ):
            fields[name] = list(value) if isinstance(value, tuple) else value
    return fields


def summary(fields: dict[str, Any]) -> str:
    """The human-readable message; the same fields stay machine-readable on the record."""
    return "audit " + " ".join(f"{k}={v}" for k, v in fields.items() if k != "amr" or v)


def _receiver(event: str):
    def receive(sender, **kwargs) -> None:
        fields = describe(event, **kwargs)
        logger.info(summary(fields), extra=fields)

    receive.__name__ = f"audit_{event}"
    return receive


def _login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    # Django already masks the password in ``credentials``; only the user name is kept.
    username = str((credentials or {}).get("username", ""))[:150]
    fields = {"event": "login_failed", "username": username}
    if request is not None:
        fields["ip"] = client_ip(request)
    logger.info(summary(fields), extra=fields)


_RECEIVERS: list = []  # strong references: Signal.connect keeps weak ones by default


def connect() -> None:
    from mfa_oauth import signals as mfa_signals

    for name, signal in sorted(vars(mfa_signals).items()):
        if isinstance(signal, Signal):
            receiver = _receiver(name)
            _RECEIVERS.append(receiver)
            signal.connect(receiver, dispatch_uid=f"idp_ops.audit.{name}")
    for event, signal in (("login", auth_signals.user_logged_in), ("logout", auth_signals.user_logged_out)):
        receiver = _receiver(event)
        _RECEIVERS.append(receiver)
        signal.connect(receiver, dispatch_uid=f"idp_ops.audit.{event}")
    auth_signals.user_login_failed.connect(_login_failed, dispatch_uid="idp_ops.audit.login_failed")
