"""System checks of the id_token signing keys (mfa_oauth.E140–E143, W140): bad settings say so at startup
instead of a refused token request later."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa
from django.core import checks
from django.core.checks import Tags

from mfa_oauth.fapi.models import ClientSecurityProfile
from mfa_oauth.oauth import signing
from tests.fapi.helpers import client_key


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def ids(settings, keys) -> list[str]:
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ID_TOKEN_SIGNING_KEYS": keys}
    return [m.id for m in checks.run_checks() if m.id and m.id[len("mfa_oauth.") :][1:3] == "14"]


def test_the_test_sites_keys_pass(settings):
    assert ids(settings, settings.MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"]) == []


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"alg": "ES512", "key": "p256"}, id="unknown-alg"),
        pytest.param({"alg": "ES256", "key": "p384"}, id="es256-not-p256"),
        pytest.param({"alg": "PS256", "key": "rsa1024"}, id="rsa-too-short"),
        pytest.param({"alg": "EdDSA", "key": "ed448"}, id="ed448"),
        pytest.param({"alg": "PS256", "key": "p256"}, id="wrong-key-type"),
        pytest.param({"alg": "ES256", "key": "public"}, id="public-jwk"),
        pytest.param({"alg": "ES256"}, id="no-key"),
        pytest.param("ES256", id="not-a-dict"),
    ],
)
def test_e140_a_key_that_cannot_sign_its_alg(settings, entry):
    keys = {
        "p256": pem(ec.generate_private_key(ec.SECP256R1())),
        "p384": pem(ec.generate_private_key(ec.SECP384R1())),
        "rsa1024": pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        "ed448": pem(ed448.Ed448PrivateKey.generate()),
        "public": dict(client_key("ES256").public_jwk()),
    }
    if isinstance(entry, dict) and "key" in entry:
        entry = {**entry, "key": keys[entry["key"]]}
    assert ids(settings, [entry]) == ["mfa_oauth.E140"]
    # Such a key never signs nor is published: only DOT's RSA key is left.
    assert [key.alg for key in signing.site_keys()] == ["RS256"]


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"alg": "HS256", "key": "a-shared-secret-of-enough-length-1234567890"}, id="hs256"),
        pytest.param({"alg": "none", "key": "x"}, id="none"),
        pytest.param({"alg": "ES256", "key": "a-shared-secret-of-enough-length-1234567890"}, id="secret-string"),
        pytest.param({"alg": "ES256", "key": {"kty": "oct", "k": "c2VjcmV0"}}, id="oct-jwk"),
    ],
)
def test_e141_a_symmetric_key_or_alg(settings, entry):
    assert ids(settings, [entry]) == ["mfa_oauth.E141"]
    assert signing.available_algorithms() == ["RS256"]


def test_e140_not_a_list(settings):
    assert ids(settings, "ES256=/etc/key.pem") == ["mfa_oauth.E140"]


def test_w140_two_keys_with_one_kid(settings):
    key = {"alg": "ES256", "kid": "same", "key": pem(ec.generate_private_key(ec.SECP256R1()))}
    assert ids(settings, [key, {**key, "active": False}]) == ["mfa_oauth.W140"]


def test_a_retired_key_is_published_but_never_signs(settings):
    retired = {"alg": "ES256", "kid": "old", "key": pem(ec.generate_private_key(ec.SECP256R1())), "active": False}
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ID_TOKEN_SIGNING_KEYS": [retired]}
    assert "old" in [key["kid"] for key in signing.public_jwks()]
    assert "ES256" not in signing.available_algorithms()
    with pytest.raises(signing.NoSigningKey):
        signing.signing_key("ES256")
    assert json.dumps(signing.public_jwks())  # JSON-serialisable JWKS entries


def database_ids() -> list[str]:
    return [m.id for m in checks.run_checks(tags=[Tags.database], databases=["default"]) if "14" in m.id]


@pytest.mark.django_db
def test_e142_a_clients_alg_without_a_site_key(settings, application):
    ClientSecurityProfile.objects.create(application=application, id_token_signed_response_alg="EdDSA")
    assert database_ids() == []
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ID_TOKEN_SIGNING_KEYS": []}
    assert database_ids() == ["mfa_oauth.E142"]


@pytest.mark.django_db
def test_e143_a_fapi_client_without_a_fapi_key(settings, application):
    ClientSecurityProfile.objects.create(application=application, fapi2_security_profile=True)
    assert database_ids() == []
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ID_TOKEN_SIGNING_KEYS": []}
    assert database_ids() == ["mfa_oauth.E143"]
    ClientSecurityProfile.objects.update(id_token_signed_response_alg="RS256")
    assert database_ids() == ["mfa_oauth.E143"]
