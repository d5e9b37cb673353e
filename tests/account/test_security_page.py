"""The security page: listing, TOTP enrollment from it, freshness, rename and remove."""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_access_token_model

from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.backup_codes import flows as backup_flows
from mfa_oauth.methods import confirmed_devices
from tests.account.helpers import give_mfa, login, verify_totp
from tests.conftest import totp_for

SECURITY = "/account/security/"


def _secret(response) -> str:
    return re.search(r'id="mfa-secret">([A-Z2-7]+)<', response.content.decode()).group(1)


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(SECURITY)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_password_only_session_is_sent_to_the_challenge(client, totp_device):
    login(client, totp_device.user)
    response = client.get(SECURITY)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


def test_lists_factors_with_dates_and_add_links(client, totp_device):
    totp_device.last_used_at = None
    totp_device.save()
    login(client, totp_device.user)
    verify_totp(client, totp_device)
    response = client.get(SECURITY)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Authenticator app" in page and "phone" in page
    assert "Added" in page and "Last used" in page
    assert 'id="add-totp"' in page and "/mfa/enroll/totp/?next=%2Faccount%2Fsecurity%2F" in page
    assert "never" not in page.split('id="mfa-factors"')[1].split("</section>")[0]  # just used
    assert response["Cache-Control"].startswith("max-age=0")


def test_new_user_enrolls_totp_from_the_security_page(client, user):
    login(client, user)
    page = client.get(SECURITY).content.decode()
    assert 'id="mfa-no-factors"' in page
    enroll = client.get("/mfa/enroll/totp/?next=/account/security/")
    assert enroll.status_code == 200 and "no-store" in enroll["Cache-Control"]
    secret = _secret(enroll)
    assert "<svg" in enroll.content.decode()

    import pyotp

    response = client.post("/mfa/enroll/totp/", {"token": pyotp.TOTP(secret).now(), "next": SECURITY})
    assert response.status_code == 303 and response["Location"] == SECURITY
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED, user=user).count() == 1
    assert len(mail.outbox) == 1 and "added" in mail.outbox[0].subject
    assert secret not in mail.outbox[0].body

    # The secret page cannot be fetched again: a reload makes a new, different secret.
    again = client.get("/mfa/enroll/totp/?next=/account/security/")
    assert _secret(again) != secret
    assert secret not in client.get(SECURITY).content.decode()


def test_wrong_confirmation_code_enrolls_nothing(client, user):
    login(client, user)
    enroll = client.get("/mfa/enroll/totp/")
    response = client.post("/mfa/enroll/totp/", {"token": "000000"})
    assert response.status_code == 200 and 'id="mfa-error"' in response.content.decode()
    assert _secret(response) == _secret(enroll)  # same secret on screen for a typo
    assert confirmed_devices(user) == []
    assert not AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).exists()
    assert mail.outbox == []


def test_adding_a_factor_without_fresh_mfa_is_refused(client, totp_device):
    give_mfa(client, totp_device.user, totp_device, age=3600)
    response = client.get("/mfa/enroll/totp/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    assert TOTPDevice.objects.filter(user=totp_device.user).count() == 1
    response = client.post("/account/security/backup-codes/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


def test_rename(client, totp_device):
    give_mfa(client, totp_device.user, totp_device)
    url = f"/account/security/factors/{totp_device.persistent_id}/rename/"
    prefix = totp_device.persistent_id.replace(".", "-").replace("/", "-")
    response = client.post(url, {f"{prefix}-name": "  work   phone "})
    assert response.status_code == 303
    totp_device.refresh_from_db()
    assert totp_device.name == "work phone"
    event = AuthEvent.objects.get(kind=EventKind.FACTOR_RENAMED)
    assert event.detail == {"old_name": "phone", "new_name": "work phone"}
    # An empty name is refused with a message and changes nothing.
    client.post(url, {f"{prefix}-name": "   "})
    totp_device.refresh_from_db()
    assert totp_device.name == "work phone"
    page = client.get(SECURITY).content.decode()
    assert 'data-message="error"' in page and "This field is required" in page


def test_rename_without_fresh_mfa_goes_to_step_up(client, totp_device):
    give_mfa(client, totp_device.user, totp_device, age=3600)
    response = client.post(f"/account/security/factors/{totp_device.persistent_id}/rename/", {"x-name": "a"})
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


def test_remove_a_factor(client, totp_device):
    user = totp_device.user
    other = TOTPDevice.objects.create(user=user, name="old phone", confirmed=True)
    give_mfa(client, user, totp_device)
    url = f"/account/security/factors/{other.persistent_id}/remove/"
    confirm = client.get(url)
    assert confirm.status_code == 200 and 'id="mfa-remove-confirm"' in confirm.content.decode()
    response = client.post(url)
    assert response.status_code == 303
    assert not TOTPDevice.objects.filter(pk=other.pk).exists()
    removed = AuthEvent.objects.get(kind=EventKind.FACTOR_REMOVED, user=user)
    assert (removed.device, removed.device_name, removed.method) == (
        other.persistent_id,
        "old phone",
        "totp",
    )
    assert len(mail.outbox) == 1 and "removed" in mail.outbox[0].subject


def test_remove_without_fresh_mfa_goes_to_step_up(client, totp_device):
    give_mfa(client, totp_device.user, totp_device, age=3600)
    response = client.post(f"/account/security/factors/{totp_device.persistent_id}/remove/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    assert TOTPDevice.objects.filter(pk=totp_device.pk).exists()


def test_someone_elses_factor_cannot_be_touched(client, totp_device, django_user_model):
    mallory = django_user_model.objects.create_user("mallory", "m@example.com", "x")
    their = TOTPDevice.objects.create(user=mallory, name="theirs", confirmed=True)
    give_mfa(client, totp_device.user, totp_device)
    response = client.post(f"/account/security/factors/{their.persistent_id}/remove/")
    assert response.status_code == 303
    assert TOTPDevice.objects.filter(pk=their.pk).exists()
    response = client.post("/account/security/factors/nonsense/remove/")
    assert response.status_code == 303


@pytest.mark.parametrize("how", ["site_default", "authorized_client"])
def test_removing_the_last_required_factor_is_refused(client, totp_device, settings, make_application, how):
    user = totp_device.user
    if how == "site_default":
        settings.MFA_OAUTH = {**settings.MFA_OAUTH, "DEFAULT_MFA_MODE": "always"}
        expected = "This site requires a second factor"
    else:
        app = make_application(mfa_mode="always", client_id="bank")
        from django.utils import timezone

        get_access_token_model().objects.create(
            user=user, application=app, token="t" * 30, expires=timezone.now(), scope="openid"
        )
        expected = "You use bank, which requires a second factor"
    backup_flows.generate(user)  # backup codes alone do not count as the factor that must remain
    give_mfa(client, user, totp_device)
    url = f"/account/security/factors/{totp_device.persistent_id}/remove/"
    page = client.get(url).content.decode()
    assert 'id="mfa-refusal"' in page and expected in page
    response = client.post(url)
    assert response.status_code == 409 and expected in response.content.decode()
    assert TOTPDevice.objects.filter(pk=totp_device.pk).exists()
    assert not AuthEvent.objects.filter(kind=EventKind.FACTOR_REMOVED).exists()
    security = client.get(SECURITY).content.decode()
    assert 'id="mfa-requirement"' in security and expected in security


def test_last_factor_may_go_when_no_policy_requires_one(client, totp_device):
    give_mfa(client, totp_device.user, totp_device)
    response = client.post(f"/account/security/factors/{totp_device.persistent_id}/remove/")
    assert response.status_code == 303
    assert confirmed_devices(totp_device.user) == []


def test_the_page_takes_its_freshness_window_from_settings(client, totp_device, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "FRESH_MFA_WINDOW": 60}
    give_mfa(client, totp_device.user, totp_device)
    url = f"/account/security/factors/{totp_device.persistent_id}/remove/"
    assert client.get(url).status_code == 200
    with time_machine.travel(time.time() + 120):
        response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")


def test_stepping_up_with_a_real_code_allows_the_change(client, totp_device):
    user = totp_device.user
    other = TOTPDevice.objects.create(user=user, name="old", confirmed=True)
    give_mfa(client, user, totp_device, age=3600)
    url = f"/account/security/factors/{other.persistent_id}/remove/"
    step_up = client.get(url)["Location"]
    response = client.post(step_up, {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
    assert response.status_code == 303 and response["Location"] == url
    assert client.post(url).status_code == 303
    assert not TOTPDevice.objects.filter(pk=other.pk).exists()


def test_sms_enrollment_link_carries_a_risk_notice(client, user):
    # The SMS factor's own registration (mfa_oauth.sms); its entries are in tests/admin/test_sms_contract.py.
    login(client, user)
    page = client.get(SECURITY).content.decode()
    assert 'id="add-sms"' in page and 'href="/mfa/sms/add/?next=%2Faccount%2Fsecurity%2F"' in page
    assert 'id="sms-risk"' in page
    assert page.index('id="add-totp"') < page.index('id="add-sms"')  # stronger factors first


@pytest.mark.parametrize(
    "pid",
    ["auth.user/1", "otp_totp.totpdevice/99999999999999999999999999", "no.model/1", "x" * 300, "a.b.c/d", "%00"],
)
def test_bad_factor_ids_get_a_message_not_a_500(client, totp_device, pid):
    give_mfa(client, totp_device.user, totp_device)
    for url in (f"/account/security/factors/{pid}/remove/", f"/account/security/factors/{pid}/rename/"):
        response = client.post(url, {"name": "x"})
        assert response.status_code == 303, (url, response.status_code)
    assert "not one of yours" in client.get(SECURITY).content.decode()


def test_a_remembered_factor_is_never_fresh(client, totp_device):
    # A session whose second factor was recalled from a trusted browser (mfa_oauth.trust), just now:
    # not proved in this session, so no account change without this session's own second factor.
    from mfa_oauth.context import REMEMBERED_METHOD, SESSION_KEY, AuthContext, Factor, password_factor

    user = totp_device.user
    client.force_login(user)
    session = client.session
    now = int(time.time())
    remembered = Factor(method=REMEMBERED_METHOD, amr=("otp",), level=1, at=now, device=totp_device.persistent_id)
    session[SESSION_KEY] = AuthContext(user_id=user.pk, factors=(password_factor(now), remembered)).to_dict()
    session.save()
    url = f"/account/security/factors/{totp_device.persistent_id}/remove/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    assert client.post(url)["Location"].startswith("/mfa/verify/")
    assert TOTPDevice.objects.filter(pk=totp_device.pk).exists()
    verify_totp(client, totp_device)
    assert client.get(url).status_code == 200
