"""The embedded default: the message is printed on the runserver (or worker) console."""

from __future__ import annotations

import secrets
import sys

from . import Gateway, OutgoingSMS, SendResult


class ConsoleGateway(Gateway):
    name = "console"

    def send(self, sms: OutgoingSMS) -> SendResult:
        # The console *is* the delivery channel here, so the body (with the code) is printed on
        # purpose; it never goes through logging.
        sid = "CONSOLE" + secrets.token_hex(8)
        sys.stdout.write(
            f"\n---- SMS to {sms.to} (valid {sms.validity_seconds} s, {sid}) ----\n{sms.body}\n"
            "---------------------------------------------------------------\n"
        )
        sys.stdout.flush()
        return SendResult(sid=sid, status="sent")
