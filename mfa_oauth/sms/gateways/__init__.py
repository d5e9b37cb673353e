"""One small interface for sending a text, and the setting that picks the implementation.

``MFA_OAUTH["SMS_BACKEND"]``: "twilio", "console", "locmem", or a dotted path to a class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.module_loading import import_string

from ...conf import settings as mfa_settings

ALIASES = {
    "twilio": "mfa_oauth.sms.gateways.twilio.TwilioGateway",
    "console": "mfa_oauth.sms.gateways.console.ConsoleGateway",
    "locmem": "mfa_oauth.sms.gateways.locmem.LocMemGateway",
}


@dataclass(frozen=True)
class OutgoingSMS:
    to: str  # E.164
    body: str
    # Seconds the carrier may keep trying; never longer than the code lives (Twilio Messages resource, ValidityPeriod).
    validity_seconds: int
    status_callback: str = ""
    reference: str = ""  # our outbox id, for logs


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str = "sent"


class GatewayError(Exception):
    """A send that did not happen. ``transient`` errors are retried; the others are final."""

    def __init__(
        self, message: str, *, code: int | None = None, transient: bool = False, ambiguous: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient
        # The request may have reached the provider (a read timeout): ask before sending again.
        self.ambiguous = ambiguous


class Gateway:
    """What a gateway implements. ``find_sent`` lets a redelivered task learn that a dead worker's
    request did reach the provider, so the text is not sent twice."""

    name = "base"
    sends_status_callbacks = False

    def send(self, sms: OutgoingSMS) -> SendResult:
        raise NotImplementedError

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        return None


def get_gateway(backend: str | None = None) -> Gateway:
    path = backend or mfa_settings.SMS_BACKEND
    return import_string(ALIASES.get(path, path))()
