"""Passkey sign-in without a password: a discoverable credential with user verification is
multi-factor on its own (WebAuthn L2 §6.2.3; docs/security.md, "WebAuthn levels from attestation");
without UV it is refused here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from mfa_oauth.context import AuthContext
from mfa_oauth.webauthn.models import WebAuthnCredential

from .conftest import ORIGIN, password_login, post_json, register
from .soft_authenticator import SoftAuthenticator


def passkey_response(client, authenticator, **kwargs):
    options = post_json(client, "passkey_options").json()
    return authenticator.get(options, kwargs.pop("origin", ORIGIN), **kwargs), options


def test_passkey_alone_signs_in_with_mfa(client, registered, authenticator, user):
    credential, options = passkey_response(client, authenticator)
    # Nothing to enumerate: no credential list for an anonymous caller; UV is demanded.
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    response = post_json(client, "passkey_verify", {"credential": credential, "next": "/o/authorize/?a=b"})
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == "/o/authorize/?a=b"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session["otp_device_id"] == registered.persistent_id
    context = AuthContext.from_dict(client.session["mfa_oauth.context"])
    # No pwd: none was typed. swk/phr: the key has no attestation (docs/security.md).
    assert context.amr == ["swk", "pop", "user", "mfa"]
    assert context.acr == "phr" and context.is_multi_factor
    home = client.get(reverse("home")).content.decode()
    assert '<code id="home-acr">phr</code>' in home


def test_synced_passkey_signs_in_at_phr(client, user):
    password_login(client)
    passkey = SoftAuthenticator(backup_eligible=True)
    assert register(client, passkey).status_code == 201
    client.logout()
    credential, _ = passkey_response(client, passkey)
    assert post_json(client, "passkey_verify", {"credential": credential}).status_code == 200
    context = AuthContext.from_dict(client.session["mfa_oauth.context"])
    assert context.amr == ["swk", "pop", "user", "mfa"] and context.acr == "phr"


def test_passkey_without_user_verification_is_refused(client, registered, authenticator):
    credential, _ = passkey_response(client, authenticator, uv=False)
    response = post_json(client, "passkey_verify", {"credential": credential})
    assert response.status_code == 400 and "verif" in response.json()["error"].lower()
    assert "_auth_user_id" not in client.session


def test_passkey_with_a_foreign_user_handle_is_refused(client, registered, authenticator, make_user):
    make_user("bob")
    credential, _ = passkey_response(client, authenticator, user_handle=b"\x00" * 32)
    response = post_json(client, "passkey_verify", {"credential": credential})
    assert response.status_code == 400 and "not registered" in response.json()["error"]
    assert "_auth_user_id" not in client.session


def test_passkey_without_user_handle_is_refused(client, registered, authenticator):
    credential, _ = passkey_response(client, authenticator)
    credential["response"]["userHandle"] = None
    assert post_json(client, "passkey_verify", {"credential": credential}).status_code == 400


def test_unknown_passkey_is_refused(client, registered):
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"}, ORIGIN)
    credential, _ = passkey_response(client, stranger)
    assert post_json(client, "passkey_verify", {"credential": credential}).status_code == 400


def test_passkey_of_an_inactive_user_is_refused(client, registered, authenticator, user):
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    credential, _ = passkey_response(client, authenticator)
    assert post_json(client, "passkey_verify", {"credential": credential}).status_code == 400
    assert "_auth_user_id" not in client.session


def test_passkey_replay_and_wrong_origin(client, registered, authenticator):
    credential, _ = passkey_response(client, authenticator)
    assert post_json(client, "passkey_verify", {"credential": credential}).status_code == 200
    fresh = Client()
    post_json(fresh, "passkey_options")
    assert post_json(fresh, "passkey_verify", {"credential": credential}).status_code == 400
    credential, _ = passkey_response(fresh, authenticator, origin="https://evil.example")
    assert post_json(fresh, "passkey_verify", {"credential": credential}).status_code == 400
    assert "_auth_user_id" not in fresh.session
    assert WebAuthnCredential.objects.get().sign_count == 1


def test_next_is_kept_on_site(client, registered, authenticator):
    credential, _ = passkey_response(client, authenticator)
    response = post_json(client, "passkey_verify", {"credential": credential, "next": "https://evil.example/x"})
    assert response.status_code == 200 and response.json()["redirect"] == "/"


def test_login_page_offers_a_passkey_button(client, db):
    html = client.get(reverse("login") + "?next=/o/authorize/%3Fx%3D1").content.decode()
    assert 'id="webauthn-passkey-start"' in html and "Sign in with a passkey" in html
    assert 'data-next="/o/authorize/?x=1"' in html
    assert 'src="/static/mfa_oauth/webauthn.js"' in html and "<script>" not in html and "style=" not in html
