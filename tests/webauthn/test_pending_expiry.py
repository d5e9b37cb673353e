"""A security key at the challenge step and the half-authenticated state's limit (docs/security.md,
"The half-authenticated state"): past PENDING_MFA_TIMEOUT no challenge is handed out and an
assertion made in time completes nothing; the script is told where to sign in again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import SESSION_KEY

from .conftest import password_login, post_json

pytestmark = pytest.mark.django_db
START = "2026-03-01 12:00:00Z"
NEXT = "/o/authorize/?client_id=rp"


def _assert_restarted(client, response) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert "took too long" in body["error"]
    location = urlparse(body["redirect"])
    assert location.path == "/accounts/login/" and parse_qs(location.query)["next"] == [NEXT]
    assert "_auth_user_id" not in client.session and SESSION_KEY not in client.session


def test_no_challenge_for_an_expired_session(client, registered):
    with time_machine.travel(START, tick=False) as traveller:
        password_login(client)
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT + 1)
        _assert_restarted(client, post_json(client, "auth_options", {"level": 2, "next": NEXT}))


def test_an_assertion_made_in_time_and_posted_after_the_limit_records_nothing(client, registered, authenticator):
    with time_machine.travel(START, tick=False) as traveller:
        password_login(client)
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT - 100)
        options = post_json(client, "auth_options", {"level": 2}).json()
        credential = authenticator.get(options, "http://localhost:8000")
        traveller.shift(101)  # the challenge is still valid (WEBAUTHN_CHALLENGE_TIMEOUT), the session no longer
        _assert_restarted(client, post_json(client, "auth_verify", {"credential": credential, "next": NEXT}))
    registered.refresh_from_db()
    assert registered.sign_count == 0 and registered.last_used_at is None
