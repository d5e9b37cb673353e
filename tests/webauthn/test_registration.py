"""Registering credentials: what is stored, who may register, and duplicate ids (WebAuthn L2 §7.1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mfa_oauth.enrollment import available
from mfa_oauth.webauthn.models import WebAuthnCredential, WebAuthnUserHandle

from .conftest import ORIGIN, confirm_with_key, password_login, post_json, register
from .soft_authenticator import SoftAuthenticator, unb64url


def session_context(client) -> dict:
    return client.session["mfa_oauth.context"]


def test_registration_stores_the_credential(client, user, authenticator):
    password_login(client)
    options = post_json(client, "register_options").json()
    assert options["rp"] == {"id": "localhost", "name": "mfa_oauth IdP"}
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["extensions"] == {"credProps": True}
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert len(unb64url(options["challenge"])) == 64
    handle = WebAuthnUserHandle.objects.get(user=user)
    # The WebAuthn user.id is random, never the pk or the user name (L2 §14.6.1).
    assert unb64url(options["user"]["id"]) == handle.handle_bytes and len(handle.handle_bytes) == 32

    credential = authenticator.create(options, ORIGIN)
    response = post_json(client, "register_verify", {"credential": credential, "name": " Blue key "})
    assert response.status_code == 201, response.content
    device = WebAuthnCredential.objects.get()
    assert response.json() == {"ok": True, "id": device.pk, "name": "Blue key", "redirect": "/mfa/webauthn/"}
    assert device.user == user and device.confirmed
    assert bytes(device.credential_id) == unb64url(credential["rawId"])
    assert device.sign_count == 0 and device.transports == ["internal"] and device.attestation_format == "none"
    assert device.attestation_verified is False and device.attestation_root == ""
    assert device.backup_eligible is False and device.user_verifying is True and device.discoverable is True
    # Nothing attests it, so BE=0 and UV=1 are the authenticator's word: phr, not phrh
    # (docs/security.md; attested keys: test_attestation.py).
    assert device.mfa_method.level == 2 and WebAuthnCredential.mfa_method.level == 2
    assert WebAuthnCredential.mfa_method.takes_code is False


def test_registration_is_not_a_second_factor(client, user, authenticator):
    # Nothing in a "none" attestation is signed, so registering proves no key and no UV; the
    # session stays at the password until an assertion.
    password_login(client)
    assert register(client, authenticator).status_code == 201
    factors = session_context(client)["factors"]
    assert [f["method"] for f in factors] == ["pwd"]
    # Adding a second key now needs a fresh second factor: the first key.
    assert post_json(client, "register_options").status_code == 403


def test_synced_passkey_is_recorded_as_backup_eligible(client, user):
    password_login(client)
    response = register(client, SoftAuthenticator(backup_eligible=True))
    assert response.status_code == 201
    device = WebAuthnCredential.objects.get()
    assert device.backup_eligible and device.backup_state and device.name == "My key"
    assert device.mfa_method.level == 2  # synced passkeys never reach phrh (G3)


def test_registration_needs_a_login(client, db, authenticator):
    assert post_json(client, "register_options").status_code == 401
    assert client.get(reverse("mfa_oauth:webauthn-register")).status_code == 302


def test_registration_needs_a_fresh_second_factor_when_the_user_has_one(client, user, totp_device, authenticator):
    password_login(client)
    page = client.get(reverse("mfa_oauth:webauthn-register"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("mfa_oauth:verify"))
    response = post_json(client, "register_options")
    assert response.status_code == 403 and "second factor" in response.json()["error"]
    assert not WebAuthnCredential.objects.exists()


def test_the_same_credential_id_cannot_be_registered_twice(client, user, make_user, authenticator):
    password_login(client)
    cid = b"\x01" * 32
    assert register(client, authenticator, credential_id=cid).status_code == 201
    # Another account presents the same credential id (WebAuthn L2 §7.1 step 22).
    make_user("bob")
    client.logout()
    password_login(client, "bob")
    response = register(client, SoftAuthenticator(), credential_id=cid)
    assert response.status_code == 400 and "already registered" in response.json()["error"]
    assert WebAuthnCredential.objects.count() == 1
    assert WebAuthnCredential.objects.get().user == user


def test_options_exclude_the_users_own_credentials(client, user, authenticator):
    password_login(client)
    assert register(client, authenticator).status_code == 201
    confirm_with_key(client, authenticator)
    options = post_json(client, "register_options").json()
    device = WebAuthnCredential.objects.get()
    assert [unb64url(c["id"]) for c in options["excludeCredentials"]] == [bytes(device.credential_id)]


def test_registration_challenge_is_single_use(client, user, authenticator):
    password_login(client)
    options = post_json(client, "register_options").json()
    credential = authenticator.create(options, ORIGIN)
    assert post_json(client, "register_verify", {"credential": credential}).status_code == 201
    confirm_with_key(client, authenticator)
    again = post_json(client, "register_verify", {"credential": credential})
    assert again.status_code == 400 and "expired or was already used" in again.json()["error"]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID"),
        ({"challenge": "AAAAAAAAAAAAAAAAAAAAAA"}, "challenge"),
    ],
)
def test_registration_refuses_a_foreign_origin_rp_or_challenge(client, user, authenticator, change, reason):
    password_login(client)
    response = register(client, authenticator, **change)
    assert response.status_code == 400
    assert reason.lower() in response.json()["error"].lower()
    assert not WebAuthnCredential.objects.exists()


def test_registration_without_uv_is_refused_when_required(client, user, webauthn_settings):
    webauthn_settings.MFA_OAUTH = {**webauthn_settings.MFA_OAUTH, "WEBAUTHN_USER_VERIFICATION": "required"}
    password_login(client)
    response = register(client, SoftAuthenticator(user_verification=False))
    assert response.status_code == 400 and "verif" in response.json()["error"].lower()
    assert not WebAuthnCredential.objects.exists()


def test_registration_without_uv_is_stored_as_not_user_verifying(client, user):
    password_login(client)
    assert register(client, SoftAuthenticator(user_verification=False)).status_code == 201
    device = WebAuthnCredential.objects.get()
    assert device.user_verifying is False and device.mfa_method.level == 2


def test_every_user_is_offered_a_phishing_resistant_option():
    # The adapter's enrollments, which the security page lists, have WebAuthn, marked phishing-resistant
    # (NIST SP 800-63B-4 §3.2.5).
    webauthn = [e for e in available() if e.method == "webauthn"]
    assert len(webauthn) == 1 and webauthn[0].phishing_resistant
    assert reverse(webauthn[0].url_name) == "/mfa/webauthn/"


def test_registration_page_and_removal(client, user, authenticator):
    password_login(client)
    page = client.get(reverse("mfa_oauth:webauthn-register"), HTTP_HOST="localhost:8000")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="webauthn-register"' in html and "webauthn-wrong-origin" not in html
    assert 'src="/static/mfa_oauth/webauthn.js"' in html and "<script>" not in html
    assert register(client, authenticator, name="Laptop").status_code == 201
    confirm_with_key(client, authenticator)
    device = WebAuthnCredential.objects.get()
    html = client.get(reverse("mfa_oauth:webauthn-register"), HTTP_HOST="localhost:8000").content.decode()
    assert "Laptop" in html
    removed = client.post(reverse("mfa_oauth:webauthn-remove", args=[device.pk]), HTTP_HOST="localhost:8000")
    assert removed.status_code == 303 and not WebAuthnCredential.objects.exists()


def test_registration_page_explains_a_wrong_address(client, user):
    password_login(client)
    html = client.get(reverse("mfa_oauth:webauthn-register"), HTTP_HOST="127.0.0.1:8000").content.decode()
    assert "webauthn-wrong-origin" in html and 'href="http://localhost:8000/mfa/webauthn/"' in html
    assert 'id="webauthn-register"' not in html


def test_a_key_removal_interrupted_for_freshness_is_carried_out_after_the_second_factor(client, registered):
    import dataclasses
    import time

    from mfa_oauth.context import SESSION_KEY, AuthContext, password_factor
    from mfa_oauth.methods import factor_for

    client.force_login(registered.user)
    session = client.session
    old = int(time.time()) - 3600  # the key was used an hour ago: too old for a change
    factor = dataclasses.replace(factor_for(registered), at=old)
    session[SESSION_KEY] = AuthContext(user_id=registered.user_id, factors=(password_factor(old), factor)).to_dict()
    session.save()
    url = reverse("mfa_oauth:webauthn-remove", args=[registered.pk])
    refused = client.post(url, HTTP_HOST="localhost:8000")
    assert refused.status_code == 302 and refused["Location"].startswith("/mfa/verify/")
    assert WebAuthnCredential.objects.filter(pk=registered.pk).exists()
    back = refused["Location"].split("next=", 1)[1]
    from urllib.parse import unquote

    session = client.session
    fresh = int(time.time())
    session[SESSION_KEY] = AuthContext(
        user_id=registered.user_id, factors=(password_factor(old), dataclasses.replace(factor, at=fresh))
    ).to_dict()
    session.save()
    done = client.get(unquote(back), HTTP_HOST="localhost:8000")
    assert done.status_code == 303
    assert not WebAuthnCredential.objects.filter(pk=registered.pk).exists()
