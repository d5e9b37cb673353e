"""A number an operator entered (admin, ``mfa_enroll --sms``, ``mfa_import``) is stored unconfirmed
and verified on first use (docs/security.md, "SMS delivery"):

- the user has no other factor: the challenge step offers the number (and the policy asks for it
  rather than letting a password alone enroll some other factor); the code that comes back
  confirms it and is the second factor;
- the user has another factor: the number waits on the security page, where "verify" sends a code
  (same limits and outbox as any code) behind a fresh second factor and confirms it.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from mfa_oauth.audit.models import AuthEvent, EventKind
from mfa_oauth.methods import confirmed_devices, has_second_factor
from mfa_oauth.operators import services
from mfa_oauth.sms.models import SMSDevice, SMSMessage
from tests.account.helpers import give_mfa, verify_totp

from .conftest import code_in, log_in, page_text
from .oauth_helpers import authorize_url, code_from_redirect, redeem

pytestmark = pytest.mark.django_db(transaction=True)
NUMBER = "+12025550123"
SECURITY = "/account/security/"


@pytest.fixture
def assigned(user, locmem_sms, settings) -> SMSDevice:
    settings.OTP_SMS_THROTTLE_FACTOR = 0  # a typo in a test, then the right code at once
    call_command("mfa_enroll", "alice", "--sms", "+1 202 555 0123", "--name", "work", stdout=io.StringIO())
    device = SMSDevice.objects.get(user=user)
    assert not device.confirmed and device.assigned
    return device


def wrong(code_body: str) -> str:
    return "000000" if "000000" not in code_body else "111111"


def test_first_sign_in_through_authorize_verifies_the_assigned_number(
    client, user, assigned, locmem_sms, make_application
):
    application = make_application(mfa_mode="always", skip_authorization=True)
    url, verifier, nonce = authorize_url(application.client_id)
    to_login = client.get(url)
    assert to_login.status_code == 302 and to_login["Location"].startswith("/accounts/login/")
    log_in(client, user)
    # Not "enroll a factor" (a password alone would then bind any factor): the number waits.
    to_challenge = client.get(url)
    assert to_challenge.status_code == 302 and to_challenge["Location"].startswith("/mfa/verify/")
    challenge = to_challenge["Location"]
    page = page_text(client.get(challenge))
    assert assigned.persistent_id in page and "work (+1 ••• ••• 0123)" in page
    assert 'id="mfa-sms-first-use"' in page and "typing it confirms the number" in page

    sent = client.post(challenge, {"device": assigned.persistent_id, "action": "send"})
    assert sent.status_code == 200 and "We sent a code to +1 ••• ••• 0123" in page_text(sent)
    [sms] = locmem_sms
    assert sms.to == NUMBER
    typo = client.post(challenge, {"device": assigned.persistent_id, "token": wrong(sms.body)})
    assert typo.status_code == 200 and "That code did not work" in page_text(typo)
    assigned.refresh_from_db()
    assert not assigned.confirmed

    done = client.post(challenge, {"device": assigned.persistent_id, "token": code_in(sms.body)})
    assert done.status_code == 303
    assigned.refresh_from_db()
    assert assigned.confirmed and assigned.assigned  # verified, and still known as an operator's entry
    redirect = client.get(done["Location"])
    claims = redeem(client, application, code_from_redirect(redirect["Location"]), verifier, nonce)
    assert {"pwd", "sms", "mfa"} <= set(claims["amr"]) and claims["acr"] == "urn:mfa_oauth:acr:mfa"
    assert SMSMessage.objects.get().purpose == "login"
    assert AuthEvent.objects.filter(kind=EventKind.MFA_SUCCEEDED, method="sms", user=user).count() == 1
    # Now a factor like any other: listed on the security page, not waiting any more.
    security = page_text(client.get(SECURITY))
    assert "+1 ••• ••• 0123" in security.split('id="mfa-factors"')[1] and 'id="mfa-pending"' not in security


def test_a_password_alone_cannot_go_around_the_assigned_number(client, user, assigned):
    log_in(client, user)
    assert has_second_factor(user) and confirmed_devices(user) == [assigned]
    for url in ("/mfa/enroll/totp/?next=/", "/mfa/sms/add/?next=/", SECURITY, f"/mfa/sms/verify/{assigned.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/"), url


def test_user_with_another_factor_verifies_it_from_the_security_page(client, user, totp_device, assigned, locmem_sms):
    # The assigned number is pending, not a factor: the challenge step does not offer it.
    assert confirmed_devices(user) == [totp_device]
    log_in(client, user)
    verify_totp(client, totp_device)
    challenge = page_text(client.get("/mfa/verify/?next=/"))
    assert assigned.persistent_id not in challenge

    security = page_text(client.get(SECURITY))
    waiting = security.split('id="mfa-pending"')[1].split("</section>")[0]
    verify_url = f"/mfa/sms/verify/{assigned.pk}/?next=%2Faccount%2Fsecurity%2F"
    assert f'href="{verify_url}"' in waiting
    page = client.get(verify_url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'id="mfa-sms-risk"' in page_text(page) and "Your administrator added +1 ••• ••• 0123" in page_text(page)
    assert 'id="mfa-sms-verify-form"' not in page_text(page)  # no code box before a code was sent

    sent = client.post(verify_url, {"action": "send"})
    assert sent.status_code == 200 and "We sent a code to +1 ••• ••• 0123" in page_text(sent)
    assert 'id="mfa-sms-verify-form"' in page_text(sent)
    [sms] = locmem_sms
    message = SMSMessage.objects.get()
    assert (message.purpose, message.status, message.to) == ("enroll", "sent", NUMBER)
    event = AuthEvent.objects.get(kind=EventKind.CHALLENGE_SENT)
    assert (event.method, event.detail, event.device) == ("sms", {"purpose": "enroll"}, assigned.persistent_id)
    # The SMS limits apply: the cooldown refuses an immediate resend and nothing goes out.
    resend = client.post(verify_url, {"action": "send"})
    assert resend.status_code == 429 and "You can ask for another in" in page_text(resend)
    assert len(locmem_sms) == 1

    typo = client.post(verify_url, {"action": "verify", "token": wrong(sms.body)})
    assert typo.status_code == 200 and "That code did not work" in page_text(typo)
    done = client.post(verify_url, {"action": "verify", "token": code_in(sms.body)})
    assert done.status_code == 303 and done["Location"] == SECURITY
    assigned.refresh_from_db()
    assert assigned.confirmed
    # Announced once, when the operator entered it; verifying adds no second "factor added".
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).count() == 1
    assert client.get(verify_url).status_code == 404  # nothing left to verify
    assert assigned.persistent_id in page_text(client.get("/mfa/verify/?next=/"))


def test_verifying_needs_a_fresh_second_factor_and_the_sessions_own_code(
    client, user, totp_device, assigned, locmem_sms
):
    give_mfa(client, user, totp_device, age=3600)
    url = f"/mfa/sms/verify/{assigned.pk}/"
    stale = client.post(url, {"action": "send"})
    assert stale.status_code == 302 and stale["Location"].startswith("/mfa/verify/") and locmem_sms == []

    give_mfa(client, user, totp_device)
    assert client.post(url, {"action": "send"}).status_code == 200
    code = code_in(locmem_sms[0].body)
    # The same code typed in another session of the same user is refused (bound to its attempt).
    from django.test import Client

    other = Client()
    give_mfa(other, user, totp_device)
    refused = other.post(url, {"action": "verify", "token": code})
    assert refused.status_code == 200 and "That code did not work" in page_text(refused)
    assigned.refresh_from_db()
    assert not assigned.confirmed
    assert client.post(url, {"action": "verify", "token": code}).status_code == 303


def test_another_users_or_a_confirmed_number_is_not_there_to_verify(client, user, totp_device, assigned):
    bob = get_user_model().objects.create_user("bob", "bob@example.com", "x")
    give_mfa(client, bob, services.enroll_totp(bob))
    response = client.get(f"/mfa/sms/verify/{assigned.pk}/")
    assert response.status_code == 404 and "not waiting for verification" in page_text(response)
    assert client.post(f"/mfa/sms/verify/{assigned.pk}/", {"action": "send"}).status_code == 404
    assert client.get("/mfa/sms/verify/999999/").status_code == 404


def test_typing_the_assigned_number_on_the_add_page_verifies_that_device(
    client, user, totp_device, assigned, locmem_sms
):
    give_mfa(client, user, totp_device)
    sent = client.post("/mfa/sms/add/?next=/", {"number": "+1 202 555 0123", "action": "send"})
    assert sent.status_code == 200
    assert SMSDevice.objects.filter(user=user).count() == 1  # no second row for the same number
    assert client.post("/mfa/sms/add/", {"action": "verify", "token": code_in(locmem_sms[0].body)}).status_code == 303
    assigned.refresh_from_db()
    assert assigned.confirmed


def test_starting_another_number_never_deletes_the_assigned_one(
    client, user, totp_device, assigned, locmem_sms, mfa_settings
):
    mfa_settings(SMS_COOLDOWN=0)
    give_mfa(client, user, totp_device)
    client.post("/mfa/sms/add/?next=/", {"number": NUMBER, "action": "send"})
    client.post("/mfa/sms/add/?next=/", {"number": "+1 202 555 0124", "action": "send"})
    assert sorted(SMSDevice.objects.values_list("number", "assigned")) == [(NUMBER, True), ("+12025550124", False)]


def test_a_number_held_by_another_account_is_refused_once_its_code_came_back(client, user, totp_device, locmem_sms):
    bob = get_user_model().objects.create_user("bob", "bob@example.com", "x")
    SMSDevice.objects.create(user=bob, number=NUMBER, confirmed=True)
    give_mfa(client, user, totp_device)
    # Not told before the code: that would tell any signed-in user whose number is registered.
    sent = client.post("/mfa/sms/add/?next=/", {"number": NUMBER, "action": "send"})
    assert sent.status_code == 200
    refused = client.post("/mfa/sms/add/", {"action": "verify", "token": code_in(locmem_sms[0].body)})
    assert refused.status_code == 409 and "already used by another account" in page_text(refused)
    assert not SMSDevice.objects.filter(user=user).exists()
    assert not AuthEvent.objects.filter(kind=EventKind.FACTOR_ADDED).exists()


def test_the_user_can_remove_a_wrong_assigned_number(client, user, totp_device, assigned):
    give_mfa(client, user, totp_device)
    url = f"/account/security/factors/{assigned.persistent_id}/remove/"
    assert "+1 ••• ••• 0123" in page_text(client.get(url))
    assert client.post(url).status_code == 303
    assert not SMSDevice.objects.exists()
    event = AuthEvent.objects.get(kind=EventKind.FACTOR_REMOVED)
    assert (event.user, event.method, event.device) == (user, "sms", assigned.persistent_id)


def test_admin_reset_removes_assigned_numbers_and_says_so(user, assigned):
    assert services.reset(user) == 1
    assert not SMSDevice.objects.exists()
    assert AuthEvent.objects.filter(kind=EventKind.FACTOR_REMOVED, method="sms").count() == 1


def test_with_sms_turned_off_an_assigned_number_holds_nothing_up(client, user, assigned, mfa_settings):
    mfa_settings(SMS_ENABLED=False)
    assert confirmed_devices(user) == [] and not has_second_factor(user)
    log_in(client, user)
    assert client.get("/mfa/enroll/totp/?next=/").status_code == 200
