"""Argon2id for passwords (old PBKDF2 hashes upgrade at login) and a fast hash for generated client secrets."""

from __future__ import annotations

import base64
import sys

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.core.checks import run_checks
from django.test import override_settings
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from idp_site import settings as site_settings

pytestmark = pytest.mark.django_db

SITE_HASHERS = site_settings.PASSWORD_HASHERS
FAST = "hmac_sha256_generated"


@override_settings(PASSWORD_HASHERS=SITE_HASHERS)
def test_site_hashes_passwords_with_argon2id_at_owasp_parameters():
    encoded = make_password("correct horse battery staple")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("correct horse battery staple", encoded)
    assert not check_password("correct horse battery stapler", encoded)


@override_settings(PASSWORD_HASHERS=SITE_HASHERS)
def test_a_pbkdf2_hash_is_upgraded_at_the_next_login(client):
    user = get_user_model().objects.create(username="carol")
    user.password = make_password("an old password 123", hasher="pbkdf2_sha256")
    user.save()
    response = client.post("/accounts/login/", {"username": "carol", "password": "an old password 123"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("an old password 123")


@override_settings(PASSWORD_HASHERS=SITE_HASHERS)
def test_generated_client_secrets_get_the_fast_salted_hash():
    secret = generate_client_secret()
    first, second = make_password(secret, hasher=FAST), make_password(secret, hasher=FAST)
    assert first.startswith(FAST + "$") and second.startswith(FAST + "$")
    assert first != second  # per-row salt
    assert secret not in first
    salt, digest = first.split("$")[1:]
    assert len(salt) >= 22 and len(base64.b64decode(digest)) == 32
    assert check_password(secret, first)
    assert not check_password(secret[:-1] + ("a" if secret[-1] != "a" else "b"), first)


@override_settings(PASSWORD_HASHERS=SITE_HASHERS)
def test_a_short_secret_someone_may_have_typed_gets_the_slow_password_hash():
    encoded = make_password("hunter2-but-longer", hasher=FAST)
    assert identify_hasher(encoded).algorithm == "argon2"
    assert check_password("hunter2-but-longer", encoded)


@override_settings(
    PASSWORD_HASHERS=SITE_HASHERS,
    OAUTH2_PROVIDER={**site_settings.OAUTH2_PROVIDER, "CLIENT_SECRET_HASHER": FAST},
)
def test_client_credentials_with_a_fast_hashed_secret(client):
    from oauth2_provider.settings import oauth2_settings

    oauth2_settings.reload()
    owner = get_user_model().objects.create(username="owner")
    secret = generate_client_secret()
    Application = get_application_model()
    app = Application.objects.create(
        name="svc",
        client_id="svc",
        client_secret=secret,
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    app.refresh_from_db()
    assert app.client_secret.startswith(FAST + "$")
    ok = client.post("/o/token/", {"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret})
    assert ok.status_code == 200, ok.content
    assert "access_token" in ok.json()
    junk = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "x" * 40}
    wrong = client.post("/o/token/", junk)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    oauth2_settings.reload()


def test_system_check_refuses_the_fast_hasher_first():
    hashers = ["mfa_oauth.hashers.GeneratedSecretHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=hashers):
        assert "mfa_oauth.E010" in {message.id for message in run_checks()}
    with override_settings(PASSWORD_HASHERS=SITE_HASHERS):
        assert "mfa_oauth.E010" not in {message.id for message in run_checks()}


def test_system_check_names_a_missing_argon2_cffi(monkeypatch):
    # None in sys.modules makes ``import argon2`` raise ImportError, as on a machine without it.
    monkeypatch.setitem(sys.modules, "argon2", None)
    with override_settings(PASSWORD_HASHERS=SITE_HASHERS):
        errors = [m for m in run_checks() if m.id == "mfa_oauth.E004"]
    assert errors and "argon2-cffi" in errors[0].msg and "mfa_oauth[argon2]" in errors[0].hint
    monkeypatch.undo()
    with override_settings(PASSWORD_HASHERS=SITE_HASHERS):
        assert "mfa_oauth.E004" not in {m.id for m in run_checks()}
