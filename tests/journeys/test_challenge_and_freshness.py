"""What a person meets on the way: a change interrupted by a step-up is kept, one code field takes any
of the user's codes (docs/journeys.md)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.messages import get_messages
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.backup_codes import hashing
from mfa_oauth.backup_codes.flows import generate
from tests.account.helpers import give_mfa
from tests.conftest import totp_for
from tests.oauth import login

pytestmark = pytest.mark.django_db
NOW = "2026-03-01 12:00:00Z"


def _prefix(device) -> str:
    return device.persistent_id.replace(".", "-").replace("/", "-")


def test_a_rename_refused_for_freshness_is_carried_out_after_the_second_factor(client, totp_device):
    user = totp_device.user
    give_mfa(client, user, totp_device, age=3600)
    url = f"/account/security/factors/{totp_device.persistent_id}/rename/"
    refused = client.post(url, {f"{_prefix(totp_device)}-name": "Work phone"})
    assert refused.status_code == 302 and refused["Location"].startswith("/mfa/verify/")
    challenge = client.get(refused["Location"])
    page = challenge.content.decode()
    assert "Confirm it&#x27;s you to rename this factor" in page or "Confirm it's you to rename this factor" in page
    assert "What you entered is kept" in page
    totp_device.refresh_from_db()
    assert totp_device.name == "phone"  # nothing done before the second factor

    passed = client.post(
        refused["Location"], {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()}
    )
    assert passed.status_code == 303
    back = client.get(passed["Location"])
    assert back.status_code == 303 and back["Location"] == "/account/security/"
    totp_device.refresh_from_db()
    assert totp_device.name == "Work phone"
    assert any("Work phone" in str(m) for m in get_messages(back.wsgi_request))
    # The kept change is carried out once: the same way back does nothing a second time.
    TOTPDevice.objects.filter(pk=totp_device.pk).update(name="phone")
    again = client.get(passed["Location"])
    assert again.status_code == 303
    totp_device.refresh_from_db()
    assert totp_device.name == "phone"


def test_a_kept_change_is_not_carried_out_for_a_guessed_resume_id(client, totp_device):
    give_mfa(client, totp_device.user, totp_device, age=3600)
    url = f"/account/security/factors/{totp_device.persistent_id}/rename/"
    client.post(url, {f"{_prefix(totp_device)}-name": "Work phone"})
    give_mfa(client, totp_device.user, totp_device)  # fresh, but the id below is not the session's
    client.get(url + "?mfa_resume=guess")
    totp_device.refresh_from_db()
    assert totp_device.name == "phone"


def submit(client, device, token):
    return client.post(
        "/mfa/verify/?" + urlencode({"next": "/"}),
        {"device": device.persistent_id, "token": token, "action": "verify", "next": "/"},
    )


@time_machine.travel(NOW, tick=False)
def test_a_backup_code_typed_while_the_app_is_named_signs_in_with_one_hash(client, totp_device, monkeypatch):
    codes = generate(totp_device.user)
    login(client)
    calls = []
    real_check = hashing.check
    monkeypatch.setattr(hashing, "check", lambda *a: calls.append(a) or real_check(*a))
    response = submit(client, totp_device, codes[0])
    assert response.status_code == 303
    assert len(calls) == 1
    assert client.session["otp_device_id"].startswith("mfa_oauth_backup_codes.")


@time_machine.travel(NOW, tick=False)
def test_the_code_of_the_users_other_app_signs_in_and_only_that_device_is_saved(client, totp_device):
    other = TOTPDevice.objects.create(user=totp_device.user, name="tablet", confirmed=True)
    login(client)
    response = submit(client, totp_device, totp_for(other).now())
    assert response.status_code == 303
    assert client.session["otp_device_id"] == other.persistent_id
    totp_device.refresh_from_db()
    other.refresh_from_db()
    assert other.last_t > -1 and totp_device.last_t == -1 and totp_device.throttling_failure_count == 0


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_counts_against_one_device_and_a_throttled_one_answers_for_all(client, totp_device):
    other = TOTPDevice.objects.create(user=totp_device.user, name="tablet", confirmed=True)
    login(client)
    wrong = submit(client, totp_device, "000000" if totp_for(other).now() != "000000" else "111111")
    assert "That code did not work" in wrong.content.decode()
    totp_device.refresh_from_db()
    other.refresh_from_db()
    assert totp_device.throttling_failure_count + other.throttling_failure_count == 1
    # Within the throttle delay the other device's valid code is not an extra guess.
    throttled = submit(client, totp_device, totp_for(other).now())
    assert throttled.status_code == 429 and "otp_device_id" not in client.session


@time_machine.travel(NOW, tick=False)
def test_the_challenge_has_one_code_field_and_no_device_radio_for_codes(client, totp_device):
    TOTPDevice.objects.create(user=totp_device.user, name="tablet", confirmed=True)
    generate(totp_device.user)
    login(client)
    page = client.get("/mfa/verify/?next=/").content.decode()
    assert page.count('name="token"') == 1
    assert 'type="radio"' not in page


def test_a_step_up_that_keeps_nothing_does_not_say_it_does(client, totp_device):
    give_mfa(client, totp_device.user, totp_device, age=3600)
    refused = client.get(f"/account/security/factors/{totp_device.persistent_id}/remove/")
    page = client.get(refused["Location"]).content.decode()
    assert "remove this factor" in page and "What you entered is kept" not in page
