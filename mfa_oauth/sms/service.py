"""Queue a code (limits, code, outbox row, publish after commit) and check a typed code.

The code and its outbox row are written in one transaction; only after the commit
is a task published, carrying the row's id (never the code) and expiring with the code.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any, Literal, overload

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import lockout
from ..adapter import get_adapter
from ..conf import settings as mfa_settings
from ..signals import challenge_sent
from . import codes, limits, phone
from .exceptions import BrokerUnavailable, SMSRefused
from .models import SENT_IN_REQUEST, SMSCode, SMSDevice, SMSMessage
from .outbox import publish

logger = logging.getLogger("mfa_oauth.sms")

ATTEMPT_SESSION_KEY = "mfa_oauth.sms.attempt"


@overload
def login_attempt_id(request: Any, *, create: Literal[True] = True) -> str: ...
@overload
def login_attempt_id(request: Any, *, create: bool) -> str | None: ...


def login_attempt_id(request: Any, *, create: bool = True) -> str | None:
    """A random id for this browser's login attempt; codes are bound to it (OWASP ASVS 6.6.2)."""
    attempt = request.session.get(ATTEMPT_SESSION_KEY)
    if attempt is None and create:
        attempt = secrets.token_urlsafe(24)
        request.session[ATTEMPT_SESSION_KEY] = attempt
    return attempt


def client_ip(request: HttpRequest) -> str | None:
    # One notion of the client for every limit: REMOTE_ADDR, or the proxy's header when the operator
    # trusts that proxy (mfa_oauth.client_ip, MFA_OAUTH["TRUSTED_PROXIES"]).
    return get_adapter().get_client_ip(request)


def send_login_code(request: HttpRequest, device: SMSDevice) -> str:
    if not mfa_settings.SMS_ENABLED:
        raise SMSRefused(_("Text message codes are turned off on this site. Use another factor."))
    lock = lockout.state(request.user)
    if lock.locked:
        # A locked account could not use the code anyway; texting it would only cost money.
        raise SMSRefused(lockout.message(lock, passkey=False) + " " + _("No code was sent."))
    attempt = login_attempt_id(request)
    message = queue_code(
        user=request.user,
        device=device,
        purpose=SMSMessage.Purpose.LOGIN,
        attempt=attempt,
        client_ip=client_ip(request),
    )
    sent = getattr(request, SENT_IN_REQUEST, None)
    if sent is None:
        sent = {}
        setattr(request, SENT_IN_REQUEST, sent)
    sent[device.pk] = message
    challenge_sent.send(sender=SMSDevice, request=request, user=request.user, device=device, method="sms")
    minutes = max(1, round((message.expires_at - message.created_at).total_seconds() / 60))
    return _("We sent a code to %(number)s. It is valid for %(minutes)d minutes.") % {
        "number": device.masked_number,
        "minutes": minutes,
    }


def queue_code(*, user: Any, device: SMSDevice, purpose: str, attempt: str, client_ip: str | None) -> SMSMessage:
    """Limits, then a new code (earlier ones of the device stop working) and its outbox row."""
    now = timezone.now()
    code = codes.new_code()
    with transaction.atomic():
        limits.serialize(device)
        try:
            limits.check(user=user, device=device, to=device.number, client_ip=client_ip, now=now)
        except limits.LimitReached as refused:
            logger.info("SMS refused for device %s: limit (%s s)", device.pk, refused.retry_after)
            raise SMSRefused(refused.user_message, refused.retry_after) from None
        # A resend invalidates the previous code; the failure counter (throttling, lockout) stays.
        SMSCode.objects.filter(device=device, used_at__isnull=True, superseded_at__isnull=True).update(
            superseded_at=now
        )
        salt = codes.new_salt()
        row = SMSCode.objects.create(
            device=device,
            attempt=attempt,
            salt=salt,
            digest=codes.digest(code, salt),
            created_at=now,
            expires_at=now + timedelta(seconds=codes.validity_seconds()),
        )
        message = SMSMessage.objects.create(
            user=user,
            device=device,
            code=row,
            purpose=purpose,
            to=device.number,
            country=phone.country_of(device.number),
            client_ip=client_ip,
            sealed_code=codes.seal(code),
            created_at=now,
            expires_at=row.expires_at,
            next_attempt_at=now,
        )
        published = _publish_on_commit(message)
    if published.get("ok") is False:
        raise BrokerUnavailable(
            _(
                "We could not send the text message right now. It will go out as soon as we can; "
                "meanwhile you can use another factor."
            )
        )
    return message


def queue_plain(*, user: Any, device: SMSDevice, client_ip: str | None = None) -> SMSMessage:
    """A test message without a code (the admin's "send a test SMS"); same limits and outbox."""
    now = timezone.now()
    with transaction.atomic():
        limits.serialize(device)
        try:
            limits.check(user=user, device=device, to=device.number, client_ip=client_ip, now=now)
        except limits.LimitReached as refused:
            raise SMSRefused(refused.user_message, refused.retry_after) from None
        message = SMSMessage.objects.create(
            user=user,
            device=device,
            purpose=SMSMessage.Purpose.TEST,
            to=device.number,
            country=phone.country_of(device.number),
            client_ip=client_ip,
            created_at=now,
            expires_at=now + timedelta(seconds=codes.validity_seconds()),
            next_attempt_at=now,
        )
        published = _publish_on_commit(message)
    if published.get("ok") is False:
        raise BrokerUnavailable(_("The broker is unavailable; the message stays queued and the sweep will send it."))
    return message


def _publish_on_commit(message: SMSMessage) -> dict:
    outcome: dict = {}
    transaction.on_commit(lambda: outcome.update(ok=publish(message)))
    return outcome


def verify_login_code(request: HttpRequest, device: SMSDevice, token: str) -> bool:
    """True once for the newest code sent to ``device`` for this login attempt, within its life.

    ``device`` is the row the challenge step locked (select_for_update); failures feed
    django-otp's throttling on it, and the per-user cap of mfa_oauth.lockout is counted by the
    caller before this runs."""
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return False
    attempt = login_attempt_id(request, create=False)
    if attempt and check_code(device, attempt, token):
        device.throttle_reset()
        request.session.pop(ATTEMPT_SESSION_KEY, None)
        if not device.confirmed:
            # Only an assigned number reaches the challenge step unconfirmed (SMSDeviceManager):
            # the code came back, so the number is verified (NIST SP 800-63B-4 §3.1.3.3, "on first use").
            confirm(device)
        return True
    device.throttle_increment()
    return False


def confirm(device: SMSDevice) -> None:
    """Mark ``device`` verified: a code sent to it came back."""
    device.confirmed = True
    device.throttling_failure_count = 0
    device.save(update_fields=["confirmed", "throttling_failure_count"])
    logger.info("SMS device %s verified (number %s)", device.pk, device.masked_number)


def check_code(device: SMSDevice, attempt: str, token: str) -> bool:
    now = timezone.now()
    candidates = SMSCode.objects.filter(
        device=device, attempt=attempt, used_at__isnull=True, superseded_at__isnull=True, expires_at__gt=now
    )
    for row in candidates:
        if codes.matches(token, row.salt, row.digest):
            # Conditional: of two concurrent requests with the same code, one wins.
            return bool(SMSCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now))
    return False


def latest_message(device: SMSDevice, attempt: str | None, request: Any = None) -> SMSMessage | None:
    """The newest outbox row for this device and login attempt (what the challenge page reports):
    the one ``request`` has just queued, if it has."""
    just_sent = getattr(request, SENT_IN_REQUEST, {}).get(device.pk) if request is not None else None
    if just_sent is not None:
        return just_sent
    if not attempt:
        return None
    return (
        SMSMessage.objects.filter(device=device).filter(Q(code__attempt=attempt)).order_by("-created_at", "-pk").first()
    )
