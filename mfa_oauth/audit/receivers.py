"""Audit rows for the core's signals and Django's login signals (one row per event)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .. import signals
from .models import EventKind
from .recorder import record


@receiver(user_logged_in, dispatch_uid="mfa_oauth.audit.login")
def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    factor = getattr(request, "mfa_oauth_login_factor", None) if request is not None else None
    record(
        EventKind.LOGIN_SUCCEEDED,
        request=request,
        user=user,
        actor=user,
        method=factor.method if factor else "pwd",
        amr=factor.amr if factor else ("pwd",),
    )


@receiver(user_login_failed, dispatch_uid="mfa_oauth.audit.login_failed")
def on_login_failed(sender: Any, credentials: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django has already masked the password in ``credentials``; only the name is kept.
    from django.contrib.auth import get_user_model

    User = get_user_model()
    name = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")[:150]
    user = User._default_manager.filter(**{User.USERNAME_FIELD: name}).first() if name else None
    # A password the login throttle refused to check (mfa_oauth.throttle) says so, and for how long.
    refusal = getattr(request, "mfa_oauth_login_throttle", None) if request is not None else None
    detail = refusal.audit_detail() if refusal is not None else {}
    record(EventKind.LOGIN_FAILED, request=request, user=user, username=name, method="pwd", detail=detail)


@receiver(signals.challenge_sent, dispatch_uid="mfa_oauth.audit.challenge_sent")
def on_challenge_sent(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    **kwargs: Any,
) -> None:
    # purpose: "test" (an operator's test message), "enroll" (verifying a number); absent at sign-in.
    detail = {"purpose": kwargs["purpose"]} if kwargs.get("purpose") else {}
    record(EventKind.CHALLENGE_SENT, request=request, user=user, device=device, method=method, detail=detail)


@receiver(signals.second_factor_verified, dispatch_uid="mfa_oauth.audit.verified")
def on_verified(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    context: Any = None,
    **kwargs: Any,
) -> None:
    if method == "backup_code":
        return  # written once, as BACKUP_CODE_USED (see on_backup_code_used)
    record(
        EventKind.MFA_SUCCEEDED,
        request=request,
        user=user,
        device=device,
        method=method,
        acr=context.acr if context else "",
        amr=context.amr if context else (),
    )


@receiver(signals.backup_code_used, dispatch_uid="mfa_oauth.audit.backup_code_used")
def on_backup_code_used(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    remaining: Any = None,
    **kwargs: Any,
) -> None:
    context = kwargs.get("context")
    record(
        EventKind.BACKUP_CODE_USED,
        request=request,
        user=user,
        device=device,
        method="backup_code",
        acr=context.acr if context else "",
        amr=context.amr if context else (),
        detail={"remaining": remaining},
    )


@receiver(signals.second_factor_failed, dispatch_uid="mfa_oauth.audit.failed")
def on_failed(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    failure_count: Any = None,
    **kwargs: Any,
) -> None:
    if failure_count is None and user is not None:
        from .. import lockout

        failure_count = lockout.failure_count(user)  # the attempt was counted before the code was checked
    record(
        EventKind.MFA_FAILED,
        request=request,
        user=user,
        device=device,
        method=method,
        detail={"failure_count": failure_count},
    )


@receiver(signals.second_factor_locked, dispatch_uid="mfa_oauth.audit.locked")
def on_locked(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    failure_count: Any = None,
    locked_until: Any = None,
    level: Any = None,
    **kwargs: Any,
) -> None:
    detail = {"failure_count": failure_count}
    if level is not None:  # a timed lock (mfa_oauth.lockout): which one since the last success, its end
        detail.update(level=level, locked_until=locked_until.isoformat() if locked_until else None)
    record(EventKind.LOCKED, request=request, user=user, detail=detail)


@receiver(signals.second_factor_unlocked, dispatch_uid="mfa_oauth.audit.unlocked")
def on_unlocked(
    sender: Any, request: HttpRequest | None = None, user: Any = None, unlocked_by: Any = None, **kwargs: Any
) -> None:
    record(EventKind.UNLOCKED, request=request, user=user, actor=unlocked_by)


def _factor_changed(kind: str):
    def receive(
        sender: Any,
        request: HttpRequest | None = None,
        user: Any = None,
        device: Any = None,
        method: Any = "",
        **kwargs: Any,
    ) -> None:
        record(
            kind,
            request=request,
            user=user,
            actor=kwargs.get("actor"),
            device=device,
            method=method,
            detail=_source(kwargs),
        )

    return receive


on_factor_added = _factor_changed(EventKind.FACTOR_ADDED)
on_factor_removed = _factor_changed(EventKind.FACTOR_REMOVED)
signals.factor_added.connect(on_factor_added, dispatch_uid="mfa_oauth.audit.factor_added")
signals.factor_removed.connect(on_factor_removed, dispatch_uid="mfa_oauth.audit.factor_removed")


@receiver(signals.factor_renamed, dispatch_uid="mfa_oauth.audit.factor_renamed")
def on_factor_renamed(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    **kwargs: Any,
) -> None:
    record(
        EventKind.FACTOR_RENAMED,
        request=request,
        user=user,
        device=device,
        method=method,
        detail={"old_name": kwargs.get("old_name", ""), "new_name": kwargs.get("new_name", "")},
    )


@receiver(signals.backup_codes_generated, dispatch_uid="mfa_oauth.audit.backup_codes_generated")
def on_backup_codes_generated(
    sender: Any, request: HttpRequest | None = None, user: Any = None, count: Any = None, **kwargs: Any
) -> None:
    record(
        EventKind.BACKUP_CODES_GENERATED,
        request=request,
        user=user,
        actor=kwargs.get("actor"),
        method="backup_code",
        detail={"count": count, **_source(kwargs)},
    )


@receiver(signals.tokens_issued, dispatch_uid="mfa_oauth.audit.tokens_issued")
def on_tokens_issued(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    application: Any = None,
    acr: Any = "",
    amr: Any = (),
    **kwargs: Any,
) -> None:
    record(
        EventKind.TOKENS_ISSUED,
        request=request,
        user=user,
        actor=user,
        client_id=getattr(application, "client_id", "") or "",
        acr=acr or "",
        amr=amr or (),
    )


def _source(kwargs: Any) -> dict:
    return {"source": kwargs["source"]} if kwargs.get("source") else {}


def on_clone_suspected(
    sender: Any,
    request: HttpRequest | None = None,
    user: Any = None,
    device: Any = None,
    method: Any = "",
    **kwargs: Any,
) -> None:
    record(
        EventKind.CLONE_SUSPECTED,
        request=request,
        user=user,
        device=device,
        method=method,
        detail={k: kwargs[k] for k in ("stored_count", "received_count") if k in kwargs},
    )


# Sent by the WebAuthn factor (a sign counter that did not increase); absent from builds without it.
_clone_signal = getattr(signals, "authenticator_clone_suspected", None)
if _clone_signal is not None:
    _clone_signal.connect(on_clone_suspected, dispatch_uid="mfa_oauth.audit.clone_suspected")
