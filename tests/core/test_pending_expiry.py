"""A password-only session has PENDING_MFA_TIMEOUT seconds to add its second factor, at every step
that would add one, not only at /o/authorize/ (docs/security.md, "The half-authenticated state"):
past the limit the challenge step logs the session out and sends it to the login, ``next`` kept,
and no factor is recorded."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import time_machine
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import lockout
from mfa_oauth.backup_codes.flows import generate
from mfa_oauth.backup_codes.models import BackupCode, BackupCodeDevice
from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import SESSION_KEY, AuthContext, get_context, password_factor
from mfa_oauth.verify.flows import complete
from tests.conftest import totp_for
from tests.oauth import login

pytestmark = pytest.mark.django_db
START = "2026-03-01 12:00:00Z"
NEXT = "/o/authorize/?client_id=rp&response_type=code"
EXPIRED_MESSAGE = "took too long"


def _challenge(client, data: dict):
    return client.post("/mfa/verify/?" + urlencode({"next": NEXT}), {"next": NEXT, **data})


def _assert_restarted(client, response) -> None:
    """Logged out, sent to the login with the challenge's ``next``, and told why."""
    assert response.status_code in (302, 303), response.content.decode()[:500]
    location = urlparse(response["Location"])
    assert location.path == "/accounts/login/"
    assert parse_qs(location.query)["next"] == [NEXT]
    assert "_auth_user_id" not in client.session
    assert SESSION_KEY not in client.session and "otp_device_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert EXPIRED_MESSAGE in page and "Sign in again" in page


@pytest.fixture
def expired(client, user):
    """alice after the password step, PENDING_MFA_TIMEOUT + 1 seconds ago; yields the time machine."""
    with time_machine.travel(START, tick=False) as traveller:
        assert login(client).status_code == 302
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT + 1)
        yield traveller


def test_a_correct_totp_code_after_the_limit_records_nothing(client, expired, user, totp_device):
    response = _challenge(client, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
    _assert_restarted(client, response)
    assert lockout.failure_count(user) == 0  # refused before the code was looked at
    totp_device.refresh_from_db()
    assert totp_device.last_t == -1  # the code was not spent: it can still serve the new sign-in


def test_a_correct_backup_code_after_the_limit_is_not_spent(client, expired, user, totp_device):
    code = generate(user)[0]
    device = BackupCodeDevice.objects.get(user=user)
    response = _challenge(client, {"device": device.persistent_id, "token": code})
    _assert_restarted(client, response)
    assert BackupCode.objects.filter(device=device, used_at__isnull=True).count() == 10


def test_the_challenge_page_after_the_limit_starts_again(client, expired, totp_device):
    response = client.get("/mfa/verify/?" + urlencode({"next": NEXT}))
    _assert_restarted(client, response)


def test_within_the_limit_the_code_still_works(client, user, totp_device):
    with time_machine.travel(START, tick=False) as traveller:
        assert login(client).status_code == 302
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT - 1)
        response = _challenge(client, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
        assert response.status_code == 303 and response["Location"] == NEXT
        assert get_context_of(client).is_multi_factor


def test_a_session_that_passed_its_second_factor_is_not_pending(client, user, totp_device):
    """Step-up long after a completed sign-in is not the half-authenticated state."""
    with time_machine.travel(START, tick=False) as traveller:
        login(client)
        assert (
            _challenge(client, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})["Location"]
            == NEXT
        )
        traveller.shift(3 * mfa_settings.PENDING_MFA_TIMEOUT)
        response = _challenge(client, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
        assert response.status_code == 303 and response["Location"] == NEXT
        assert len(get_context_of(client).second_factors) == 2


def test_totp_enrollment_after_the_limit_does_not_upgrade_the_session(client, expired, user):
    response = client.get(f"/mfa/enroll/totp/?{urlencode({'next': NEXT})}")
    _assert_restarted(client, response)


def test_totp_enrollment_confirmed_after_the_limit_records_nothing(client, user):
    """The setup page opened in time, the code typed after the limit: no factor, no device left."""
    enroll = f"/mfa/enroll/totp/?{urlencode({'next': NEXT})}"
    with time_machine.travel(START, tick=False) as traveller:
        login(client)
        assert client.get(enroll).status_code == 200
        device = TOTPDevice.objects.get(user=user)
        traveller.shift(mfa_settings.PENDING_MFA_TIMEOUT + 1)
        response = client.post(enroll, {"token": totp_for(device).now(), "next": NEXT})
        _assert_restarted(client, response)
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_complete_refuses_an_expired_password_only_context(user, totp_device):
    """The one place every factor goes through refuses, whatever view calls it."""
    from mfa_oauth.pending import PendingSessionExpired

    request = RequestFactory().post("/")
    request.user = user
    stale = password_factor(int(time.time()) - mfa_settings.PENDING_MFA_TIMEOUT - 1)
    request.session = _Session({SESSION_KEY: AuthContext(user_id=user.pk, factors=(stale,)).to_dict()})
    with pytest.raises(PendingSessionExpired):
        complete(request, totp_device)
    assert not get_context(request).second_factors
    assert "otp_device_id" not in request.session


def get_context_of(client) -> AuthContext:
    return AuthContext.from_dict(client.session[SESSION_KEY])


class _Session(dict):
    """Enough of a session for complete() (django-otp's login writes a key, add_factor rotates it)."""

    def cycle_key(self) -> None:
        pass
