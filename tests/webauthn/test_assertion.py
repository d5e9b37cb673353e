"""WebAuthn at the challenge step: amr/acr from the signed flags, and every refusal WebAuthn L2 §7.2
lists (replay, foreign challenge, origin, RP ID, another user's credential, counter, UV)."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.test import Client

from mfa_oauth import lockout
from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.signals import authenticator_clone_suspected, second_factor_failed
from mfa_oauth.webauthn.models import WebAuthnCredential

from .conftest import ORIGIN, assertion, password_login, post_json, register
from .soft_authenticator import SoftAuthenticator


def context_of(client) -> dict:
    from mfa_oauth.context import AuthContext

    return AuthContext.from_dict(client.session["mfa_oauth.context"])


@pytest.fixture
def authenticator(hardware_key):
    """These tests' key has a packed attestation by a vendor root the operator installed, so it can
    reach hwk/phrh (unattested keys: test_attestation.py)."""
    return hardware_key


@pytest.fixture
def half_logged_in(client, registered):
    password_login(client)
    return client


def test_assertion_completes_the_second_factor(half_logged_in, registered, authenticator):
    client = half_logged_in
    options = post_json(client, "auth_options", {"level": 2}).json()
    assert options["rpId"] == "localhost" and options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]]  # the user's own credential, nothing else
    credential = authenticator.get(options, ORIGIN)
    response = post_json(client, "auth_verify", {"credential": credential, "next": "/o/authorize/?x=1"})
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "redirect": "/o/authorize/?x=1"}
    context = context_of(client)
    # Attested against an installed anchor, hardware-bound (BE=0), with user verification: phrh;
    # never fpt/face.
    assert context.amr == ["pwd", "hwk", "pop", "user", "mfa"]
    assert context.acr == "phrh"
    registered.refresh_from_db()
    assert registered.sign_count == 1 and registered.last_used_at is not None
    assert client.session["otp_device_id"] == registered.persistent_id


def test_assertion_without_user_verification_is_phr_without_user(half_logged_in, registered, authenticator):
    client = half_logged_in
    credential, _ = assertion(client, authenticator, uv=False)
    assert post_json(client, "auth_verify", {"credential": credential}).status_code == 200
    context = context_of(client)
    assert context.amr == ["pwd", "hwk", "pop", "mfa"]
    assert context.acr == "phr"


def test_synced_passkey_is_swk_and_phr(client, user):
    password_login(client)
    passkey = SoftAuthenticator(backup_eligible=True)
    assert register(client, passkey).status_code == 201
    client.logout()
    password_login(client)
    credential, _ = assertion(client, passkey)
    assert post_json(client, "auth_verify", {"credential": credential}).status_code == 200
    context = context_of(client)
    assert context.amr == ["pwd", "swk", "pop", "user", "mfa"]
    assert context.acr == "phr"  # G3: a synced passkey is AAL2, never phrh


def test_replayed_assertion_is_refused(half_logged_in, registered, authenticator):
    client = half_logged_in
    credential, _ = assertion(client, authenticator)
    assert post_json(client, "auth_verify", {"credential": credential}).status_code == 200
    # Same response again: its challenge was consumed.
    again = post_json(client, "auth_verify", {"credential": credential})
    assert again.status_code == 400 and "already used" in again.json()["error"]
    # Same response against a fresh challenge: it does not match.
    post_json(client, "auth_options")
    replay = post_json(client, "auth_verify", {"credential": credential})
    assert replay.status_code == 400 and "challenge" in replay.json()["error"]
    registered.refresh_from_db()
    assert registered.sign_count == 1


def test_challenge_from_another_session_is_refused(half_logged_in, registered, authenticator):
    other = Client()
    password_login(other)
    foreign_options = post_json(other, "auth_options").json()
    post_json(half_logged_in, "auth_options")
    # Signed over the other session's challenge, posted in this one.
    credential = authenticator.get(foreign_options, ORIGIN)
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "challenge" in response.json()["error"]
    assert context_of(half_logged_in).amr == ["pwd"]


def test_wrong_origin_is_refused(half_logged_in, registered, authenticator):
    credential, _ = assertion(half_logged_in, authenticator, origin="https://evil.example")
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "origin" in response.json()["error"]
    assert context_of(half_logged_in).amr == ["pwd"]
    registered.refresh_from_db()
    assert registered.sign_count == 0


def test_wrong_rp_id_is_refused(half_logged_in, registered, authenticator):
    credential, _ = assertion(half_logged_in, authenticator, rp_id="evil.example")
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "RP ID" in response.json()["error"]


def test_another_users_credential_is_refused(half_logged_in, registered, make_user):
    bob, bob_key = make_user("bob"), SoftAuthenticator()
    bob_client = Client()
    password_login(bob_client, "bob")
    assert register(bob_client, bob_key).status_code == 201
    # alice's session, bob's authenticator signing alice's challenge.
    options = post_json(half_logged_in, "auth_options").json()
    credential = bob_key.get({**options, "allowCredentials": []}, ORIGIN)
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "not registered to your account" in response.json()["error"]
    assert context_of(half_logged_in).amr == ["pwd"]
    assert WebAuthnCredential.objects.get(user=bob).sign_count == 0


@pytest.mark.parametrize("counter", [1, 0])
def test_non_increasing_counter_is_refused_and_audited(half_logged_in, registered, authenticator, counter):
    client = half_logged_in
    credential, _ = assertion(client, authenticator, counter=5)
    assert post_json(client, "auth_verify", {"credential": credential}).status_code == 200
    client.logout()
    password_login(client)
    alarms = []
    authenticator_clone_suspected.connect(lambda **kw: alarms.append(kw), weak=False, dispatch_uid="t")
    try:
        credential, _ = assertion(client, authenticator, counter=counter if counter else 0)
        response = post_json(client, "auth_verify", {"credential": credential})
    finally:
        authenticator_clone_suspected.disconnect(dispatch_uid="t")
    assert response.status_code == 400 and "copied" in response.json()["error"]
    registered.refresh_from_db()
    assert registered.sign_count == 5 and registered.clone_suspected_at is not None
    assert [(a["stored_count"], a["received_count"]) for a in alarms] == [(5, counter)]
    assert context_of(client).amr == ["pwd"]


def test_equal_counter_is_refused(half_logged_in, registered, authenticator):
    credential, _ = assertion(half_logged_in, authenticator, counter=3)
    assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 200
    credential, _ = assertion(half_logged_in, authenticator, counter=3)
    assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 400


def test_a_forged_low_counter_raises_no_alarm(half_logged_in, registered, authenticator):
    """Only a valid signature can trigger the clone alarm; a forgery is just refused."""
    credential, _ = assertion(half_logged_in, authenticator, counter=4)
    assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 200
    credential, _ = assertion(half_logged_in, authenticator, counter=1)
    credential["response"]["signature"] = credential["response"]["signature"][:-4] + "AAAA"
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400
    registered.refresh_from_db()
    assert registered.clone_suspected_at is None and registered.sign_count == 4


def test_counterless_authenticators_stay_at_zero(half_logged_in, registered, authenticator):
    # Authenticators that always send 0 (many passkey providers) are allowed (L2 §6.1.1).
    for _ in range(2):
        credential, _ = assertion(half_logged_in, authenticator, counter=0)
        assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 200


def test_user_verification_required_by_setting(half_logged_in, registered, authenticator, webauthn_settings):
    webauthn_settings.MFA_OAUTH = {**webauthn_settings.MFA_OAUTH, "WEBAUTHN_USER_VERIFICATION": "required"}
    credential, options = assertion(half_logged_in, authenticator, uv=False)
    assert options["userVerification"] == "required"
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "verif" in response.json()["error"].lower()
    assert context_of(half_logged_in).amr == ["pwd"]


def test_user_verification_required_for_phrh(half_logged_in, registered, authenticator):
    credential, options = assertion(half_logged_in, authenticator, level=3, uv=False)
    assert options["userVerification"] == "required"
    assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 400
    credential, _ = assertion(half_logged_in, authenticator, level=3)
    assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 200
    assert context_of(half_logged_in).acr == "phrh"


def test_backup_eligibility_may_not_change(half_logged_in, registered, authenticator):
    credential, _ = assertion(half_logged_in, authenticator, backup_eligible=True)
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "backup" in response.json()["error"]


def test_expired_challenge_is_refused(half_logged_in, registered, authenticator):
    credential, _ = assertion(half_logged_in, authenticator)
    with time_machine.travel(time.time() + mfa_settings.WEBAUTHN_CHALLENGE_TIMEOUT + 1):
        response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 400 and "expired" in response.json()["error"]


def test_locked_user_is_refused_when_the_site_locks_keys_too(half_logged_in, registered, authenticator, user, settings):
    # By default a user-verified key stays usable while codes are locked (tests/webauthn/test_lockout.py).
    credential, _ = assertion(half_logged_in, authenticator)
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "PASSKEY_USABLE_WHILE_LOCKED": False}
    for _ in range(mfa_settings.MAX_FAILED_ATTEMPTS):
        lockout.claim_attempt(user)
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 403 and "locked" in response.json()["error"]


def test_failed_assertion_is_signalled(half_logged_in, registered, authenticator):
    failures = []
    second_factor_failed.connect(lambda **kw: failures.append(kw["method"]), weak=False, dispatch_uid="t2")
    try:
        credential, _ = assertion(half_logged_in, authenticator, origin="https://evil.example")
        post_json(half_logged_in, "auth_verify", {"credential": credential})
    finally:
        second_factor_failed.disconnect(dispatch_uid="t2")
    assert failures == ["webauthn"]


def test_assertion_endpoints_need_a_session(client, registered):
    assert post_json(client, "auth_options").status_code == 401
    assert post_json(client, "auth_verify", {"credential": {}}).status_code == 401


def test_a_typed_code_never_verifies_a_webauthn_device(half_logged_in, registered):
    response = half_logged_in.post(
        "/mfa/verify/", {"device": registered.persistent_id, "token": "123456", "action": "verify"}
    )
    assert response.status_code == 200 and context_of(half_logged_in).amr == ["pwd"]


def test_options_for_one_chosen_credential(half_logged_in, registered, authenticator, user):
    WebAuthnCredential.objects.create(
        user=user, name="Other", credential_id=b"\x02" * 32, public_key=b"x", confirmed=True
    )
    options = post_json(half_logged_in, "auth_options", {"device": registered.persistent_id}).json()
    assert len(options["allowCredentials"]) == 1
    assert len(post_json(half_logged_in, "auth_options").json()["allowCredentials"]) == 2
    unknown = post_json(half_logged_in, "auth_options", {"device": "otp_totp.totpdevice/1"})
    assert unknown.status_code == 400 and "no security key" in unknown.json()["error"]


def test_assertion_query_budget(half_logged_in, registered, authenticator, django_assert_max_num_queries):
    # session, user, lock state, ownership check, locked row + counter update, session cycle, last used.
    credential, _ = assertion(half_logged_in, authenticator)
    with django_assert_max_num_queries(19):  # 18 + the audit row
        assert post_json(half_logged_in, "auth_verify", {"credential": credential}).status_code == 200
