"""Twilio Programmable Messaging through the official ``twilio`` client.

The client has no base-URL setting (``edge``/``region`` only make ``*.twilio.com`` hosts), so an
``HttpClient`` subclass, the client's own extension point, rewrites the scheme and host of every
request to ``TWILIO_API_BASE_URL`` when that is not Twilio's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ...conf import settings as mfa_settings
from . import Gateway, GatewayError, OutgoingSMS, SendResult

DEFAULT_BASE_URL = "https://api.twilio.com"
# Error codes that say "this will never work, do not retry" (Twilio's error dictionary).
PERMANENT_CODES = {21211, 21614, 21612, 21408, 21610, 21606, 21608, 20003, 21602, 21617, 21660, 21703}


class BaseURLHttpClient(TwilioHttpClient):
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        path = url.split("://", 1)[1].split("/", 1)[1]
        return super().request(method, f"{self.base_url}/{path}", *args, **kwargs)


def classify(error: Exception) -> GatewayError:
    """Transient: HTTP 429 / 20429, 5xx, timeouts, connection errors. Everything else is final."""
    if isinstance(error, TwilioRestException):
        transient = error.status == 429 or error.code == 20429 or error.status >= 500
        if error.code in PERMANENT_CODES:
            transient = False
        return GatewayError(str(error.msg)[:250], code=error.code, transient=transient)
    if isinstance(error, requests.ConnectTimeout):
        return GatewayError("ConnectTimeout", transient=True)
    if isinstance(error, requests.Timeout):
        # Sent, but no answer in time: Twilio may have accepted it.
        return GatewayError(type(error).__name__, transient=True, ambiguous=True)
    if isinstance(error, requests.ConnectionError):
        return GatewayError(type(error).__name__, transient=True)
    return GatewayError(f"{type(error).__name__}: {str(error)[:200]}", transient=False)


class TwilioGateway(Gateway):
    name = "twilio"
    sends_status_callbacks = True

    def __init__(self) -> None:
        base_url = (mfa_settings.TWILIO_API_BASE_URL or DEFAULT_BASE_URL).rstrip("/")
        timeout = mfa_settings.SMS_HTTP_TIMEOUT
        http_client = (
            TwilioHttpClient(timeout=timeout)
            if base_url == DEFAULT_BASE_URL
            else BaseURLHttpClient(base_url, timeout=timeout)
        )
        self.client = Client(mfa_settings.TWILIO_ACCOUNT_SID, mfa_settings.TWILIO_AUTH_TOKEN, http_client=http_client)

    def send(self, sms: OutgoingSMS) -> SendResult:
        params = {"to": sms.to, "body": sms.body, "validity_period": max(1, min(sms.validity_seconds, 36000))}
        if mfa_settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = mfa_settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = mfa_settings.TWILIO_FROM_NUMBER
        if sms.status_callback:
            params["status_callback"] = sms.status_callback
        try:
            message = self.client.messages.create(**params)
        except (TwilioException, requests.RequestException) as error:
            raise classify(error) from error
        return SendResult(sid=message.sid, status=message.status or "queued")

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        try:
            # DateSent filters by day; the exact instant is checked on date_created below.
            found = self.client.messages.list(to=to, date_sent_after=since - timedelta(days=1), limit=20)
        except (TwilioException, requests.RequestException) as error:
            raise classify(error) from error
        for message in found:
            created = message.date_created
            if message.body == body and (created is None or created >= since - timedelta(minutes=1)):
                return message.sid
        return None
