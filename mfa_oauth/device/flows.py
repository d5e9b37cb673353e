"""Device-code logic independent of views: freeze the approval, redeem it once."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_device_grant_model

from mfa_oauth.context import AuthContext
from mfa_oauth.models import AuthenticationRecord

from .models import DeviceGrantAuthentication

# oauthlib's DeviceCodeGrant status values (RFC 8628 §3.5 error codes plus "authorized").
AUTHORIZED = "authorized"
PENDING = "authorization_pending"
EXPIRED = "expired_token"
DENIED = "access_denied"


def record_approval(device_grant: Any, user: Any, context: AuthContext) -> DeviceGrantAuthentication:
    """Freeze the session's authentication onto the device grant (call inside the approval)."""
    record = AuthenticationRecord.objects.create(
        user=user,
        auth_time=datetime.fromtimestamp(context.auth_time, tz=dt_timezone.utc),
        acr=context.acr,
        amr=context.amr,
    )
    link, _ = DeviceGrantAuthentication.objects.update_or_create(device_grant=device_grant, defaults={"record": record})
    return link


def redeem(client_id: str | None, device_code: str, request: Any) -> str | None:
    """The RFC 8628 status of ``device_code`` for ``client_id``; on success fills the oauthlib request.

    Returns None for an unknown code, a code of another client, or one already redeemed
    (oauthlib answers ``invalid_grant``)."""
    if not client_id or not device_code or len(device_code) > 100:
        return None
    Model = get_device_grant_model()
    grant = Model.objects.select_related("user").filter(device_code=device_code).first()
    if grant is None or grant.client_id != client_id:
        return None
    if grant.is_expired():
        return EXPIRED
    if grant.status == Model.AUTHORIZATION_PENDING:
        return PENDING
    if grant.status == Model.DENIED:
        return DENIED
    if grant.status != Model.AUTHORIZED or grant.user is None:
        return None
    link = DeviceGrantAuthentication.objects.select_related("record").filter(device_grant=grant).first()
    if link is None:
        return None  # fail closed: approved without the gate
    with transaction.atomic():
        # A conditional UPDATE: two polls racing with the same code get tokens once.
        won = DeviceGrantAuthentication.objects.filter(pk=link.pk, consumed_at__isnull=True).update(
            consumed_at=timezone.now()
        )
    if not won:
        return None
    request.user = grant.user
    request.scopes = grant.scope.split() if grant.scope else []
    request.mfa_record = link.record
    return AUTHORIZED
