"""System checks: a Twilio gateway without what it needs fails loudly at startup, not at login."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from ..conf import settings as mfa_settings
from .gateways import ALIASES


@register()
def check_sms_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    backend = mfa_settings.SMS_BACKEND
    if backend not in ALIASES and "." not in str(backend):
        messages.append(
            Error(
                f"MFA_OAUTH['SMS_BACKEND'] = {backend!r} is not a known gateway.",
                hint="Use 'twilio', 'console', 'locmem' or a dotted path to a gateway class.",
                id="mfa_oauth_sms.E001",
            )
        )
    if backend == "twilio":
        if not mfa_settings.TWILIO_ACCOUNT_SID or not mfa_settings.TWILIO_AUTH_TOKEN:
            messages.append(
                Error(
                    "The Twilio SMS gateway has no credentials.",
                    hint="Set MFA_OAUTH['TWILIO_ACCOUNT_SID'] and MFA_OAUTH['TWILIO_AUTH_TOKEN'].",
                    id="mfa_oauth_sms.E002",
                )
            )
        if not mfa_settings.TWILIO_FROM_NUMBER and not mfa_settings.TWILIO_MESSAGING_SERVICE_SID:
            messages.append(
                Error(
                    "The Twilio SMS gateway has no sender.",
                    hint="Set MFA_OAUTH['TWILIO_FROM_NUMBER'] or MFA_OAUTH['TWILIO_MESSAGING_SERVICE_SID'].",
                    id="mfa_oauth_sms.E003",
                )
            )
        if not mfa_settings.SMS_PUBLIC_BASE_URL:
            messages.append(
                Warning(
                    "No MFA_OAUTH['SMS_PUBLIC_BASE_URL']: Twilio will not report delivery status.",
                    hint="Set it to the public https URL of this site (as Twilio reaches it).",
                    id="mfa_oauth_sms.W001",
                )
            )
    validity = mfa_settings.SMS_CODE_VALIDITY
    if not isinstance(validity, int) or not 30 <= validity <= 600:
        messages.append(
            Error(
                "MFA_OAUTH['SMS_CODE_VALIDITY'] must be an integer from 30 to 600 seconds.",
                hint="NIST SP 800-63B-4 §3.1.3.2: an out-of-band code is valid at most 10 minutes.",
                id="mfa_oauth_sms.E004",
            )
        )
    if mfa_settings.SMS_SENDING_LEASE <= 30:
        messages.append(
            Warning(
                "MFA_OAUTH['SMS_SENDING_LEASE'] is not above the send task's 30 s time limit.",
                hint="A slow but live worker's send could be taken over and the text sent twice.",
                id="mfa_oauth_sms.W002",
            )
        )
    if mfa_settings.SMS_ENABLED:
        from .tasks import celery_configured

        if not celery_configured():
            messages.append(
                Error(
                    "SMS codes are on, but the Celery app the send task uses has no broker: Celery's default "
                    "amqp://guest@localhost// would take the codes and no worker of this site would send them.",
                    hint="Create a Celery app (app.config_from_object('django.conf:settings', namespace='CELERY'), "
                    "imported from your project's __init__.py) and set CELERY_BROKER_URL; or "
                    "CELERY_TASK_ALWAYS_EAGER = True to send in the request; or MFA_OAUTH['SMS_ENABLED'] = False.",
                    id="mfa_oauth.E065",
                )
            )
    transport = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    visibility = transport.get("visibility_timeout", 3600)
    if str(getattr(settings, "CELERY_BROKER_URL", "")).startswith("redis") and visibility <= 600 + 30:
        messages.append(
            Warning(
                "The Redis visibility_timeout is not above the SMS code lifetime plus the task time limit.",
                hint="A slow message would be delivered twice (Celery's Redis broker caveats: visibility_timeout).",
                id="mfa_oauth_sms.W003",
            )
        )
    return messages


@register(deploy=True)
def check_sms_deploy(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    backend = mfa_settings.SMS_BACKEND
    if mfa_settings.SMS_ENABLED and backend in ("console", "locmem"):
        return [
            Warning(
                f"The {backend!r} SMS gateway does not send text messages; codes are printed or kept in memory.",
                hint=(
                    "Set MFA_OAUTH['SMS_BACKEND'] = 'twilio' (and the TWILIO_* keys), "
                    "or MFA_OAUTH['SMS_ENABLED'] = False."
                ),
                id="mfa_oauth_sms.W004",
            )
        ]
    return []
