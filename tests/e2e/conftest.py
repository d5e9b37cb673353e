"""Fixtures of the real-browser journeys (headless Debian Chromium, see tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from oauth2_provider.models import get_application_model

from mfa_oauth.models import ClientPolicy, MFAMode


@pytest.fixture
def demo_client(live_server, user):
    """The demo relying party registered for this live server, MFA always (as ``seed_demo`` does)."""
    Application = get_application_model()
    app = Application.objects.create(
        name="Demo client",
        client_id=settings.DEMO_CLIENT_ID,
        client_secret=settings.DEMO_CLIENT_SECRET,
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{live_server.url}/demo/callback/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=False,
    )
    ClientPolicy.objects.create(application=app, mfa_mode=MFAMode.ALWAYS)
    return app
