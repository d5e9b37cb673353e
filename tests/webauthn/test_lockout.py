"""While the code factors are locked, a user-verified WebAuthn assertion still works, at the challenge
step and for passkey sign-in, unless MFA_OAUTH['PASSKEY_USABLE_WHILE_LOCKED'] is False
(docs/security.md, "Second-factor lockout"): a guesser who knows the password cannot fail a
signature, so locking it out helps nobody but the guesser."""

from __future__ import annotations

import pytest

from mfa_oauth import lockout
from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.context import AuthContext
from mfa_oauth.models import UserMFAState

from .conftest import ORIGIN, assertion, password_login, post_json
from .test_passkey import passkey_response


def lock_codes(user) -> None:
    for _ in range(mfa_settings.MAX_FAILED_ATTEMPTS):
        lockout.claim_attempt(user)
    assert lockout.is_locked(user)


@pytest.fixture
def half_logged_in(client, registered):
    password_login(client)
    return client


@pytest.fixture
def passkey_off(settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "PASSKEY_USABLE_WHILE_LOCKED": False}


def context_of(client) -> AuthContext:
    return AuthContext.from_dict(client.session["mfa_oauth.context"])


def test_user_verified_key_completes_the_second_factor_while_codes_are_locked(
    half_logged_in, registered, authenticator, user
):
    lock_codes(user)
    credential, options = assertion(half_logged_in, authenticator)
    assert options["userVerification"] == "required"  # only a PIN/biometric-verified key, while locked
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 200, response.content
    # Phishing-resistant; not hardware: this test key's attestation chains to no installed anchor.
    assert context_of(half_logged_in).acr == "phr"
    # A success resets the lock, its window and its escalation (NIST SP 800-63B-4 §3.2.2).
    assert not lockout.is_locked(user)
    state = UserMFAState.objects.get(user=user)
    assert (state.failure_count, state.lock_level, state.locked_until) == (0, 0, None)


def test_key_without_user_verification_is_refused_while_codes_are_locked(
    half_logged_in, registered, authenticator, user
):
    # Options fetched before the lock asked for UV only as "preferred"; the lock still demands it.
    options = post_json(half_logged_in, "auth_options", {}).json()
    assert options["userVerification"] == "preferred"
    lock_codes(user)
    credential = authenticator.get(options, ORIGIN, uv=False)
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 403 and "locked until" in response.json()["error"]
    assert context_of(half_logged_in).amr == ["pwd"]
    assert lockout.is_locked(user)


def test_passkey_sign_in_works_while_codes_are_locked(client, registered, authenticator, user):
    lock_codes(user)
    credential, _ = passkey_response(client, authenticator)
    response = post_json(client, "passkey_verify", {"credential": credential})
    assert response.status_code == 200, response.content
    assert int(client.session["_auth_user_id"]) == user.pk
    assert not lockout.is_locked(user)


def test_setting_off_refuses_the_key_at_the_challenge_step(
    half_logged_in, registered, authenticator, user, passkey_off
):
    options = post_json(half_logged_in, "auth_options", {}).json()
    lock_codes(user)
    refused = post_json(half_logged_in, "auth_options", {})
    assert refused.status_code == 403 and "locked until" in refused.json()["error"]
    credential = authenticator.get(options, ORIGIN)
    response = post_json(half_logged_in, "auth_verify", {"credential": credential})
    assert response.status_code == 403 and "locked until" in response.json()["error"]
    assert context_of(half_logged_in).amr == ["pwd"]
    assert lockout.is_locked(user)


def test_setting_off_refuses_passkey_sign_in(client, registered, authenticator, user, passkey_off):
    lock_codes(user)
    credential, _ = passkey_response(client, authenticator)
    response = post_json(client, "passkey_verify", {"credential": credential})
    assert response.status_code == 403 and "locked until" in response.json()["error"]
    assert "_auth_user_id" not in client.session


def test_challenge_page_offers_the_key_but_no_code_form_while_locked(half_logged_in, registered, user):
    lock_codes(user)
    page = half_logged_in.get("/mfa/verify/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="mfa-locked"' in text and "locked until" in text
    assert 'data-webauthn="authenticate"' in text
    assert 'id="mfa-verify-form"' not in text


def test_challenge_page_offers_nothing_while_locked_when_the_setting_is_off(
    half_logged_in, registered, user, passkey_off
):
    lock_codes(user)
    text = half_logged_in.get("/mfa/verify/").content.decode()
    assert 'id="mfa-locked"' in text and 'data-webauthn="authenticate"' not in text


def test_the_lock_email_says_the_key_still_works(registered, user, mailoutbox):
    mailoutbox.clear()  # the "factor added" mail of the registration
    lock_codes(user)
    assert len(mailoutbox) == 1
    assert "security key or passkey" in mailoutbox[0].body and "UTC" in mailoutbox[0].body


def test_the_lock_email_promises_no_key_when_the_setting_is_off(registered, user, mailoutbox, passkey_off):
    mailoutbox.clear()
    lock_codes(user)
    assert len(mailoutbox) == 1 and "passkey" not in mailoutbox[0].body
