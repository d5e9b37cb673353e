"""Settings for the subprocess worker of the redelivery test: a shared file database, a short
visibility timeout so a dead worker's message comes back in seconds, a short sending lease."""

import os

from tests.settings import *  # noqa: F401,F403
from tests.settings import MFA_OAUTH

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": float(os.environ.get("TEST_VISIBILITY_TIMEOUT", "3")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
MFA_OAUTH = {**MFA_OAUTH, "SMS_SENDING_LEASE": float(os.environ.get("TEST_SMS_SENDING_LEASE", "2"))}
