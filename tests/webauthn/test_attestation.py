"""WebAuthn levels from evidence (docs/security.md, "WebAuthn levels from attestation"): ``hwk`` and
``phrh`` only for a credential whose attestation chained to a trust anchor the operator installed;
an unattested or self-attested key is ``swk``/``phr`` whatever its flags say."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mfa_oauth.context import AuthContext
from mfa_oauth.webauthn.certificates import Anchor
from mfa_oauth.webauthn.models import WebAuthnCredential

from .conftest import assertion, attested_by, password_login, post_json, register
from .pki import AAGUID, CertificateAuthority, der, mds_blob, mds_entry
from .soft_authenticator import SoftAuthenticator
from .test_policy import authorize_url


def context_of(client) -> AuthContext:
    return AuthContext.from_dict(client.session["mfa_oauth.context"])


def sign_in_with(client, key: SoftAuthenticator) -> AuthContext:
    """Password, then an assertion with ``key`` as the second factor; the session's context."""
    client.logout()
    password_login(client)
    credential, _ = assertion(client, key)
    response = post_json(client, "auth_verify", {"credential": credential})
    assert response.status_code == 200, response.content
    return context_of(client)


# --- the finding: a software authenticator's self-reported flags earned hwk/phrh ------------------


def test_a_software_key_without_attestation_is_not_hardware(client, user):
    # A software authenticator (no attestation, BE=0, UV=1): its flags are whatever it chooses to say.
    key = SoftAuthenticator(backup_eligible=False, user_verification=True)
    password_login(client)
    assert register(client, key).status_code == 201
    device = user.webauthncredential_set.get()
    assert device.attestation_format == "none"
    assert device.mfa_method.level == 2  # phr at most
    context = sign_in_with(client, key)
    assert context.amr == ["pwd", "swk", "pop", "user", "mfa"]
    assert context.acr == "phr"


def test_a_software_key_without_attestation_cannot_meet_phrh(client, user, application):
    key = SoftAuthenticator(backup_eligible=False, user_verification=True)
    password_login(client)
    assert register(client, key).status_code == 201
    sign_in_with(client, key)
    url, _ = authorize_url(acr_values="phrh")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("https://rp.example/cb")
    assert parse_qs(urlparse(response["Location"]).query)["error"] == ["unmet_authentication_requirements"]


def test_a_passkey_sign_in_without_attestation_is_phr(client, user):
    key = SoftAuthenticator(backup_eligible=False, user_verification=True)
    password_login(client)
    assert register(client, key).status_code == 201
    client.logout()
    options = post_json(client, "passkey_options").json()
    response = post_json(client, "passkey_verify", {"credential": key.get(options, "http://localhost:8000")})
    assert response.status_code == 200, response.content
    context = context_of(client)
    assert context.amr == ["swk", "pop", "user", "mfa"] and context.acr == "phr"


# --- registration asks for attestation only when there is something to verify it against -----------


def test_attestation_is_requested_only_with_anchors(client, user, vendor, install_roots):
    password_login(client)
    assert post_json(client, "register_options").json()["attestation"] == "none"
    install_roots(vendor)
    assert post_json(client, "register_options").json()["attestation"] == "direct"


# --- packed attestation against the operator's anchors ----------------------------------------------


def test_packed_attestation_chained_to_an_installed_root_is_hardware(client, user, vendor, hardware_key):
    password_login(client)
    assert register(client, hardware_key).status_code == 201
    device = user.webauthncredential_set.get()
    assert device.attestation_format == "packed" and device.attestation_verified
    assert device.attestation_root == Anchor.from_certificate(vendor.certificate).sha256
    assert device.aaguid == str(AAGUID)
    assert device.mfa_method.level == 3
    context = sign_in_with(client, hardware_key)
    assert context.amr == ["pwd", "hwk", "pop", "user", "mfa"] and context.acr == "phrh"


def test_the_same_attestation_without_the_anchor_is_software(client, user, vendor):
    key = attested_by(vendor)  # the vendor's root is not installed
    password_login(client)
    assert register(client, key).status_code == 201
    device = user.webauthncredential_set.get()
    assert device.attestation_format == "packed" and not device.attestation_verified and not device.attestation_root
    context = sign_in_with(client, key)
    assert context.amr == ["pwd", "swk", "pop", "user", "mfa"] and context.acr == "phr"


def test_a_chain_to_another_vendors_root_is_registered_as_software(client, user, vendor, install_roots):
    # Some anchor is installed, but not this key's: the registration is still accepted (as a software
    # key), not refused, which py_webauthn alone would do.
    install_roots(CertificateAuthority.root("Another Vendor Root"))
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert not user.webauthncredential_set.get().attestation_verified
    assert sign_in_with(client, key).acr == "phr"


def test_self_attestation_is_software(client, user, vendor, install_roots):
    install_roots(vendor)
    key = SoftAuthenticator(aaguid=AAGUID.bytes, attestation="self")
    password_login(client)
    assert register(client, key).status_code == 201
    device = user.webauthncredential_set.get()
    assert device.attestation_format == "packed" and not device.attestation_verified
    context = sign_in_with(client, key)
    assert context.amr == ["pwd", "swk", "pop", "user", "mfa"] and context.acr == "phr"


def test_a_chain_through_an_intermediate_is_hardware(client, user, vendor, install_roots):
    install_roots(vendor)
    intermediate = vendor.intermediate("Test Vendor Attestation CA")
    key, certificate = intermediate.attestation_certificate(AAGUID)
    authenticator = SoftAuthenticator(
        aaguid=AAGUID.bytes,
        attestation="packed",
        attestation_key=key,
        attestation_chain=(der(certificate), der(intermediate.certificate)),
    )
    password_login(client)
    assert register(client, authenticator).status_code == 201
    assert sign_in_with(client, authenticator).acr == "phrh"


@pytest.mark.parametrize(
    "certificate_kwargs",
    [
        pytest.param({"aaguid_extension": b"\x11" * 16}, id="id-fido-gen-ce-aaguid names another model"),
        pytest.param({"ou": "Something Else"}, id="subject OU is not Authenticator Attestation"),
    ],
)
def test_a_packed_certificate_that_breaks_l2_8_2_1_is_not_hardware(
    client, user, vendor, install_roots, certificate_kwargs
):
    install_roots(vendor)
    key, certificate = vendor.attestation_certificate(AAGUID, **certificate_kwargs)
    authenticator = SoftAuthenticator(
        aaguid=AAGUID.bytes, attestation="packed", attestation_key=key, attestation_chain=(der(certificate),)
    )
    password_login(client)
    assert register(client, authenticator).status_code == 201
    assert not user.webauthncredential_set.get().attestation_verified
    assert sign_in_with(client, authenticator).acr == "phr"


def test_an_attested_synced_passkey_is_still_phr(client, user, vendor, install_roots):
    install_roots(vendor)
    key = attested_by(vendor, backup_eligible=True)
    password_login(client)
    assert register(client, key).status_code == 201
    assert user.webauthncredential_set.get().attestation_verified
    context = sign_in_with(client, key)
    # docs/security.md, "WebAuthn levels from attestation"
    assert context.amr == ["pwd", "swk", "pop", "user", "mfa"] and context.acr == "phr"


def test_a_removed_anchor_takes_the_level_away_at_the_next_sign_in(client, user, vendor, install_roots):
    directory = install_roots(vendor, CertificateAuthority.root("Another Vendor Root"))
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert sign_in_with(client, key).acr == "phrh"
    (directory / "root-0.pem").unlink()  # the operator stops trusting this vendor
    assert sign_in_with(client, key).acr == "phr"


def test_an_unreadable_anchor_file_makes_no_key_hardware(client, user, vendor, hardware_key, webauthn_settings):
    password_login(client)
    assert register(client, hardware_key).status_code == 201
    assert sign_in_with(client, hardware_key).acr == "phrh"
    directory = webauthn_settings.MFA_OAUTH["WEBAUTHN_ATTESTATION_ROOTS"]
    (Path(directory) / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    assert sign_in_with(client, hardware_key).acr == "phr"


# --- a FIDO Metadata Service BLOB the operator downloaded -------------------------------------------


@pytest.fixture
def mds(webauthn_settings, tmp_path):
    """A test "FIDO MDS": a root, a CA under it and a BLOB signer, as FIDO's chain is; ``publish``
    writes a BLOB signed by it and configures it."""
    root = CertificateAuthority.root("Test MDS Root")
    ca = root.intermediate("Test MDS CA")
    signer_key, signer = ca.server_certificate("mds.fidoalliance.org")
    root.write(tmp_path / "mds-root.pem")
    blob_path = tmp_path / "blob.jwt"

    def publish(entries, *, key=signer_key, chain=(signer, ca.certificate), **kwargs):
        blob_path.write_text(mds_blob(key, list(chain), entries, **kwargs))
        webauthn_settings.MFA_OAUTH = {
            **webauthn_settings.MFA_OAUTH,
            "WEBAUTHN_MDS_BLOB": str(blob_path),
            "WEBAUTHN_MDS_ROOTS": str(tmp_path / "mds-root.pem"),
        }
        return blob_path

    publish.ca = ca
    return publish


def test_an_mds_blob_listing_the_model_makes_it_hardware(client, user, vendor, mds):
    # No root installed by hand: the anchor is the BLOB's attestation root for this AAGUID.
    mds([mds_entry(AAGUID, roots=(vendor,))])
    key = attested_by(vendor)
    password_login(client)
    assert post_json(client, "register_options").json()["attestation"] == "direct"
    assert register(client, key).status_code == 201
    assert user.webauthncredential_set.get().attestation_verified
    context = sign_in_with(client, key)
    assert context.amr == ["pwd", "hwk", "pop", "user", "mfa"] and context.acr == "phrh"


def test_an_mds_root_listed_for_another_model_is_no_anchor(client, user, vendor, mds):
    mds([mds_entry(uuid.UUID(int=7), roots=(vendor,))])
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert sign_in_with(client, key).acr == "phr"


@pytest.mark.parametrize("status", ["REVOKED", "ATTESTATION_KEY_COMPROMISE", "USER_VERIFICATION_BYPASS"])
def test_a_revoked_or_compromised_model_is_not_hardware(client, user, vendor, install_roots, mds, status):
    # Even with the vendor's root installed by hand: the BLOB's report wins.
    install_roots(vendor)
    mds([mds_entry(AAGUID, roots=(vendor,), statuses=("FIDO_CERTIFIED_L1", status, "UPDATE_AVAILABLE"))])
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    context = sign_in_with(client, key)
    assert "hwk" not in context.amr and context.acr == "phr"


def test_a_revocation_published_after_registration_applies_at_the_next_sign_in(client, user, vendor, mds):
    mds([mds_entry(AAGUID, roots=(vendor,))])
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert sign_in_with(client, key).acr == "phrh"
    mds([mds_entry(AAGUID, roots=(vendor,), statuses=("FIDO_CERTIFIED_L1", "REVOKED"))], number=2)
    assert sign_in_with(client, key).acr == "phr"


def test_a_model_with_software_key_protection_is_not_hardware(client, user, vendor, mds):
    mds([mds_entry(AAGUID, roots=(vendor,), key_protection=("software",))])
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert sign_in_with(client, key).acr == "phr"


def test_a_blob_signed_by_another_certificate_under_the_root_is_not_trusted(client, user, vendor, mds):
    # The root also issues certificates to other sites: only the named signer may sign the BLOB.
    other_key, other = mds.ca.server_certificate("www.example.com")
    mds([mds_entry(AAGUID, roots=(vendor,))], key=other_key, chain=(other, mds.ca.certificate))
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert sign_in_with(client, key).acr == "phr"


def test_a_blob_not_chained_to_the_mds_root_is_not_trusted(client, user, vendor, mds):
    impostor = CertificateAuthority.root("Impostor Root")
    forged_key, forged = impostor.server_certificate("mds.fidoalliance.org")
    mds([mds_entry(AAGUID, roots=(vendor,))], key=forged_key, chain=(forged,))
    key = attested_by(vendor)
    password_login(client)
    assert register(client, key).status_code == 201
    assert sign_in_with(client, key).acr == "phr"


# --- existing credentials ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_credentials_registered_before_the_migration_are_software(user):
    executor = MigrationExecutor(connection)
    before = [("mfa_oauth_webauthn", "0001_initial")]
    after = executor.loader.graph.leaf_nodes("mfa_oauth_webauthn")
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("mfa_oauth_webauthn", "WebAuthnCredential")
        old.objects.create(
            user_id=user.pk,
            name="old key",
            credential_id=b"\x01" * 32,
            credential_id_sha256="0" * 64,
            public_key=b"key",
            attestation_format="none",
            backup_eligible=False,
            user_verifying=True,
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
    device = WebAuthnCredential.objects.get(name="old key")
    assert device.attestation_verified is False and device.attestation_root == ""
    assert device.mfa_method.level == 2
