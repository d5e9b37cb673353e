"""Publishing an outbox row to the broker, without the service or the delivery importing the tasks.

The service (a new code) and the delivery's sweep (a row stuck in queued/sending) both hand a row to the
broker. The Celery task lives in :mod:`.tasks`, which imports the delivery; so the publisher is a callback
that ``SMSConfig.ready()`` connects (:func:`connect`), and this module imports only the models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .models import SMSMessage

logger = logging.getLogger("mfa_oauth.sms")

# Publishing gives up fast when the broker is down: the row stays queued and the sweep sends it.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

Publisher = Callable[[SMSMessage], None]
_publisher: Publisher | None = None


def connect(publisher: Publisher) -> None:
    """Set the function that puts a row's id on the broker (mfa_oauth.sms.tasks.enqueue)."""
    global _publisher
    _publisher = publisher


def publish(message: SMSMessage) -> bool:
    """Hand the row's id to the broker; False (and the row stays queued) when the broker is down."""
    if _publisher is None:
        raise RuntimeError("mfa_oauth.sms is not ready: SMSConfig.ready() connects the outbox publisher")
    try:
        _publisher(message)
    except Exception as error:  # kombu/redis raise several unrelated classes for "broker down"
        logger.warning(
            "SMS %s stays queued, the broker is unavailable (%s: %s)", message.pk, type(error).__name__, error
        )
        return False
    return True
