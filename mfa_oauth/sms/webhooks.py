"""Twilio's message status callback: signed, idempotent, never leaves a terminal state.

The signature (``X-Twilio-Signature``, HMAC-SHA1 of the URL Twilio called plus the sorted POST
parameters) is checked with ``twilio.request_validator.RequestValidator``. Behind a
TLS-terminating proxy the URL Twilio called is not what Django sees, so when
SMS_PUBLIC_BASE_URL is set it is the base the URL is rebuilt from.
"""

from __future__ import annotations

import logging
import re

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from ..conf import settings as mfa_settings
from .models import SMSMessage

logger = logging.getLogger("mfa_oauth.sms")
Status = SMSMessage.Status
SID_PATTERN = re.compile(r"(SM|MM)[0-9a-f]{32}")
# Twilio's MessageStatus values we record; the others (accepted, queued, sending, scheduled…)
# say nothing our row does not already know.
RECORDED = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
}
# From which states each status may be entered: never out of a terminal state, never backwards.
ENTER_FROM = {
    Status.SENT: (Status.QUEUED, Status.SENDING),
    Status.DELIVERED: (Status.QUEUED, Status.SENDING, Status.SENT),
    Status.UNDELIVERED: (Status.QUEUED, Status.SENDING, Status.SENT),
    Status.FAILED: (Status.QUEUED, Status.SENDING, Status.SENT),
}


def public_url(request: HttpRequest) -> str:
    base = (mfa_settings.SMS_PUBLIC_BASE_URL or "").rstrip("/")
    return base + request.get_full_path() if base else request.build_absolute_uri()


def signature_ok(request: HttpRequest) -> bool:
    token = mfa_settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(request), request.POST.dict(), signature)


@csrf_exempt  # a server-to-server call; the signature is its authentication
@require_POST
def status_callback(request: HttpRequest, message_id: int) -> HttpResponse:
    if not signature_ok(request):
        return HttpResponseForbidden("Invalid or missing X-Twilio-Signature.")
    sid = request.POST.get("MessageSid", "")
    raw_status = request.POST.get("MessageStatus", "")
    account = request.POST.get("AccountSid", "")
    if not SID_PATTERN.fullmatch(sid) or not re.fullmatch(r"[a-z_-]{1,32}", raw_status):
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    if account and mfa_settings.TWILIO_ACCOUNT_SID and account != mfa_settings.TWILIO_ACCOUNT_SID:
        return HttpResponseForbidden("Unknown AccountSid.")
    error_code = None
    if request.POST.get("ErrorCode"):
        if not request.POST["ErrorCode"].isdigit() or len(request.POST["ErrorCode"]) > 9:
            return HttpResponseBadRequest("ErrorCode must be a number.")
        error_code = int(request.POST["ErrorCode"])

    # The row of this callback URL, as long as it is the same message (or its sid is not yet
    # stored, when the callback outruns the task's own update).
    rows = SMSMessage.objects.filter(pk=message_id).filter(Q(provider_sid=sid) | Q(provider_sid__isnull=True))
    if not rows.exists():
        return HttpResponse(status=200)  # unknown or foreign: nothing to change, nothing to retry
    status = RECORDED.get(raw_status)
    if status is None:
        return HttpResponse(status=200)
    fields = {"status": status, "status_updated_at": timezone.now(), "provider_sid": sid, "sealed_code": ""}
    if status in (Status.UNDELIVERED, Status.FAILED):
        fields["error_code"] = error_code
        fields["error_message"] = f"carrier reported {raw_status}"
    changed = rows.filter(status__in=ENTER_FROM[status]).update(**fields)
    if changed:
        logger.info("SMS %s: status %s (error %s)", message_id, status, error_code)
    return HttpResponse(status=200)
