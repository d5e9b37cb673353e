"""Fixtures of the login-throttle tests: a frozen clock and MFA_OAUTH overrides."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
import time_machine

START = datetime(2026, 11, 27, 9, 0, tzinfo=dt_timezone.utc)


@pytest.fixture
def clock():
    """A frozen clock the test moves explicitly (never sleeps); Django's LocMemCache expires by it too."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def mfa_settings(settings):
    """Change MFA_OAUTH keys for one test: ``mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=3)``."""

    def update(**values):
        settings.MFA_OAUTH = {**settings.MFA_OAUTH, **values}

    return update
