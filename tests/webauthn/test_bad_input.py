"""Hostile or broken bodies at every ceremony endpoint: a clear 400, nothing stored, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from mfa_oauth.webauthn.models import WebAuthnCredential

from .conftest import ORIGIN, password_login, post_json, url
from .soft_authenticator import SoftAuthenticator, b64url, unb64url

RAW_BODIES = {
    "malformed JSON": (b'{"credential": {', "not valid JSON"),
    "not UTF-8": (b"\xff\xfe\x00{", "not valid JSON"),
    "JSON array": (b"[1, 2, 3]", "JSON object"),
    "JSON string": (b'"credential"', "JSON object"),
    "no credential": (b"{}", "no credential"),
    "credential not an object": (b'{"credential": "abc"}', "no credential"),
    "huge payload": (json.dumps({"credential": {"id": "A" * 200_000}}).encode(), "too large"),
}


def _registration_credential(client) -> dict:
    options = post_json(client, "register_options").json()
    return SoftAuthenticator().create(options, ORIGIN)


def _half(text: str) -> str:
    raw = unb64url(text)
    return b64url(raw[: len(raw) // 2])


REGISTRATION_MANGLES = {
    "bad base64 rawId": lambda c: {**c, "id": "!!!", "rawId": "!!!"},
    "bad base64 attestation": lambda c: {**c, "response": {**c["response"], "attestationObject": "%%%=="}},
    "truncated attestation": lambda c: {
        **c,
        "response": {**c["response"], "attestationObject": _half(c["response"]["attestationObject"])},
    },
    "wrong field types": lambda c: {**c, "response": []},
    "missing clientDataJSON": lambda c: {**c, "response": {"attestationObject": c["response"]["attestationObject"]}},
    "clientDataJSON not JSON": lambda c: {**c, "response": {**c["response"], "clientDataJSON": b64url(b"\x00\x01")}},
}


@pytest.mark.parametrize("case", sorted(RAW_BODIES))
@pytest.mark.parametrize("endpoint", ["register_verify", "auth_verify", "passkey_verify"])
def test_raw_bodies_are_refused_clearly(client, user, case, endpoint):
    password_login(client)
    body, message = RAW_BODIES[case]
    response = client.post(url(endpoint), body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not WebAuthnCredential.objects.exists()


@pytest.mark.parametrize("case", sorted(REGISTRATION_MANGLES))
def test_mangled_registrations_are_refused(client, user, case):
    password_login(client)
    credential = REGISTRATION_MANGLES[case](_registration_credential(client))
    response = post_json(client, "register_verify", {"credential": credential})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("Your security key's answer could not be verified")
    assert "challenge" not in error  # refused for the mangling itself
    assert not WebAuthnCredential.objects.exists()


def test_unsupported_algorithm_is_refused(client, user):
    password_login(client)
    options = post_json(client, "register_options").json()
    credential = SoftAuthenticator().create(options, ORIGIN, alg=-36)  # ES512: not in WEBAUTHN_ALGORITHMS
    response = post_json(client, "register_verify", {"credential": credential})
    assert response.status_code == 400 and "Unsupported" in response.json()["error"]
    assert not WebAuthnCredential.objects.exists()


def test_name_must_be_text(client, user):
    password_login(client)
    credential = _registration_credential(client)
    response = post_json(client, "register_verify", {"credential": credential, "name": ["x"]})
    assert response.status_code == 400 and not WebAuthnCredential.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: {**c, "rawId": "***", "id": "***"},
        lambda c: {**c, "response": {**c["response"], "authenticatorData": b64url(b"\x00" * 10)}},
        lambda c: {**c, "response": {**c["response"], "signature": "%%%"}},
        lambda c: {**c, "response": {**c["response"], "signature": b64url(b"\x30\x02\x00")}},
        lambda c: {**c, "response": "nope"},
        lambda c: {**c, "rawId": b64url(b"x" * 2000), "id": b64url(b"x" * 2000)},
        lambda c: {**c, "type": "password"},
    ],
    ids=["bad id", "short authData", "bad base64 sig", "garbage sig", "response string", "huge id", "wrong type"],
)
def test_mangled_assertions_are_refused(client, registered, authenticator, mangle):
    password_login(client)
    options = post_json(client, "auth_options").json()
    credential = mangle(authenticator.get(options, ORIGIN))
    response = post_json(client, "auth_verify", {"credential": credential})
    assert response.status_code == 400
    assert "security key" in response.json()["error"]
    registered.refresh_from_db()
    assert registered.sign_count == 0
    assert client.session["mfa_oauth.context"]["factors"][-1]["method"] == "pwd"


def test_options_endpoints_refuse_get_and_bad_json(client, user):
    password_login(client)
    assert client.get(url("register_options")).status_code == 405
    response = client.post(url("auth_options"), b"{oops", content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.json()["error"]


def test_ceremonies_are_csrf_protected(user):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(url("passkey_options"), {}, content_type="application/json")
    assert response.status_code == 403
