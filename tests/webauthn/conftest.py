from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import PASSWORD

from .pki import AAGUID, CertificateAuthority, der
from .soft_authenticator import SoftAuthenticator

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"

URLS = {
    "register_options": "mfa_oauth:webauthn-register-options",
    "register_verify": "mfa_oauth:webauthn-register-verify",
    "auth_options": "mfa_oauth:webauthn-authenticate-options",
    "auth_verify": "mfa_oauth:webauthn-authenticate-verify",
    "passkey_options": "mfa_oauth:webauthn-passkey-options",
    "passkey_verify": "mfa_oauth:webauthn-passkey-verify",
}


def url(name: str) -> str:
    return reverse(URLS[name])


@pytest.fixture(autouse=True)
def webauthn_settings(settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "WEBAUTHN_RP_ID": RP_ID, "WEBAUTHN_ORIGINS": [ORIGIN]}
    return settings


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator()


def password_login(client, username: str = "alice", password: str = PASSWORD) -> None:
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content


def post_json(client, name: str, payload=None, **extra):
    return client.post(url(name), payload if payload is not None else {}, content_type="application/json", **extra)


def register(client, authenticator: SoftAuthenticator, name: str = "My key", **create_kwargs):
    options = post_json(client, "register_options").json()
    credential = authenticator.create(options, create_kwargs.pop("origin", ORIGIN), **create_kwargs)
    return post_json(client, "register_verify", {"credential": credential, "name": name})


def assertion(client, authenticator: SoftAuthenticator, level: int = 0, origin: str = ORIGIN, **get_kwargs):
    """Options then a signed response; returns (response JSON posted, options)."""
    options = post_json(client, "auth_options", {"level": level}).json()
    return authenticator.get(options, origin, **get_kwargs), options


def confirm_with_key(client, authenticator: SoftAuthenticator) -> None:
    """Use the key once as this session's second factor (e.g. right after registering it)."""
    credential, _options = assertion(client, authenticator)
    response = post_json(client, "auth_verify", {"credential": credential})
    assert response.status_code == 200, response.content


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        return get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD, **extra)

    return make


@pytest.fixture
def registered(client, user, authenticator):
    """alice with one hardware-bound, user-verifying credential; the client is logged out again."""
    password_login(client)
    response = register(client, authenticator)
    assert response.status_code == 201, response.content
    client.logout()
    return user.webauthncredential_set.get()


# --- attestation (docs/security.md): a test vendor's PKI, installed as the operator's anchor ---------


@pytest.fixture
def vendor() -> CertificateAuthority:
    """A security-key vendor's attestation root, made for this test."""
    return CertificateAuthority.root("Test Vendor Attestation Root")


def attested_by(ca: CertificateAuthority, **kwargs) -> SoftAuthenticator:
    """An authenticator with packed attestation by a certificate ``ca`` issued for its AAGUID."""
    key, certificate = ca.attestation_certificate(AAGUID)
    return SoftAuthenticator(
        aaguid=AAGUID.bytes, attestation="packed", attestation_key=key, attestation_chain=(der(certificate),), **kwargs
    )


@pytest.fixture
def install_roots(webauthn_settings, tmp_path):
    """Install CAs as the operator's attestation anchors (a directory of PEM files)."""

    def install(*cas: CertificateAuthority):
        directory = tmp_path / "attestation-roots"
        directory.mkdir(exist_ok=True)
        for index, ca in enumerate(cas):
            ca.write(directory / f"root-{index}.pem")
        webauthn_settings.MFA_OAUTH = {**webauthn_settings.MFA_OAUTH, "WEBAUTHN_ATTESTATION_ROOTS": str(directory)}
        return directory

    return install


@pytest.fixture
def hardware_key(vendor, install_roots) -> SoftAuthenticator:
    """A hardware-bound (BE=0), user-verifying key whose attestation chains to an installed anchor."""
    install_roots(vendor)
    return attested_by(vendor)
