"""What a user is told about a text that did not arrive (Twilio's error dictionary)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .delivery import EXPIRED, SUPERSEDED
from .models import SMSMessage

BY_CODE = {
    21211: _("That phone number is not valid."),
    21614: _("That number cannot receive text messages."),
    21612: _("Text messages cannot reach that number."),
    21408: _("We cannot send text messages to that country."),
    21610: _("That number has unsubscribed from our texts (it replied STOP). Text START to opt in again."),
    21606: _("Text messages are not working on our side right now."),
    21608: _("Text messages are not working on our side right now."),
    20003: _("Text messages are not working on our side right now."),
    30003: _("Your phone could not be reached."),
    30005: _("The carrier does not know that number."),
    30006: _("That number is a landline or cannot receive texts."),
    30004: _("The message was blocked."),
    30007: _("The carrier filtered the message."),
    30034: _("The message was blocked."),
    30036: _("The message expired before it was delivered."),
    30001: _("The message expired before it was delivered."),
}


def problem(message: SMSMessage | None) -> str:
    """A sentence for the challenge page when the newest text is not on its way, else ""."""
    if message is None:
        return ""
    Status = SMSMessage.Status
    if message.status in (Status.QUEUED, Status.SENDING) and message.expires_at <= timezone.now():
        return str(_("The code expired before it could be sent. Ask for a new one, or use another factor."))
    if message.status == Status.FAILED and message.error_message == EXPIRED:
        return str(_("The code expired before it could be sent. Ask for a new one, or use another factor."))
    if message.status == Status.FAILED and message.error_message == SUPERSEDED:
        return ""
    if message.status in (Status.FAILED, Status.UNDELIVERED):
        known = BY_CODE.get(message.error_code) if message.error_code is not None else None
        reason = known or _("The text message could not be delivered.")
        return str(_("%(reason)s Use another factor, or fix the number.") % {"reason": reason})
    return ""
