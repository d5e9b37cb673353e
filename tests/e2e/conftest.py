"""Fixtures of the real-browser journeys (headless Debian Chromium, see tests/conftest.py)."""

from __future__ import annotations

import pytest

from mfa_oauth.models import MFAMode
from tests.conftest import create_demo_client


@pytest.fixture
def demo_client(live_server, user):
    """The demo relying party registered for this live server, MFA always (as ``seed_demo`` does)."""
    return create_demo_client(live_server.url, user, MFAMode.ALWAYS)
