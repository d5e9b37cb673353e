"""System checks catch WebAuthn settings browsers would refuse, or that weaken origin checking."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine

from mfa_oauth.webauthn.checks import check_attestation_trust, check_webauthn_settings
from mfa_oauth.webauthn.config import expected_origins, host_matches_rp_id

from .pki import CertificateAuthority, mds_blob, mds_entry


def ids(settings, **overrides) -> list[str]:
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, **overrides}
    return [m.id for m in check_webauthn_settings(None)]


def test_the_test_configuration_is_clean(settings):
    assert ids(settings) == []


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"WEBAUTHN_RP_ID": "127.0.0.1"}, "mfa_oauth_webauthn.E001"),
        ({"WEBAUTHN_RP_ID": "https://localhost"}, "mfa_oauth_webauthn.E001"),
        ({"WEBAUTHN_ORIGINS": []}, "mfa_oauth_webauthn.E002"),
        ({"WEBAUTHN_ORIGINS": ["localhost:8000"]}, "mfa_oauth_webauthn.E003"),
        ({"WEBAUTHN_ORIGINS": ["https://evil.example"]}, "mfa_oauth_webauthn.E004"),
        ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": ["http://id.example.com"]}, "mfa_oauth_webauthn.W002"),
        ({"WEBAUTHN_TRUST_REQUEST_ORIGIN": True}, "mfa_oauth_webauthn.W001"),
        ({"WEBAUTHN_USER_VERIFICATION": "discouraged"}, "mfa_oauth_webauthn.E005"),
    ],
)
def test_misconfigurations_are_reported(settings, overrides, expected):
    settings.DEBUG = False
    assert expected in ids(settings, **overrides)


def test_subdomain_origins_match_the_rp_id(settings):
    assert ids(settings, WEBAUTHN_RP_ID="example.com", WEBAUTHN_ORIGINS=["https://id.example.com"]) == []
    assert host_matches_rp_id("id.example.com:443", "example.com")
    assert not host_matches_rp_id("badexample.com", "example.com")


def test_request_origin_only_when_explicitly_trusted(rf, settings):
    request = rf.get("/", HTTP_HOST="localhost:9999")
    assert expected_origins(request) == ["http://localhost:8000"]
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "WEBAUTHN_TRUST_REQUEST_ORIGIN": True}
    assert expected_origins(request) == ["http://localhost:8000", "http://localhost:9999"]


# --- attestation trust (docs/security.md) ------------------------------------------------------------


def trust_messages(settings, **overrides) -> list:
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, **overrides}
    return check_attestation_trust(None)


def test_installed_roots_are_clean(settings, tmp_path):
    CertificateAuthority.root().write(tmp_path / "vendor.pem")
    assert trust_messages(settings, WEBAUTHN_ATTESTATION_ROOTS=str(tmp_path)) == []
    assert trust_messages(settings, WEBAUTHN_ATTESTATION_ROOTS=str(tmp_path / "vendor.pem")) == []


@pytest.mark.parametrize(
    "prepare, reason",
    [
        (lambda d: d / "nowhere", "does not exist"),
        (lambda d: d, "holds no certificate"),  # an empty directory
        (lambda d: (d / "notes.pem").write_text("not a certificate") and d, "no readable PEM certificate"),
    ],
)
def test_anchor_setting_without_a_certificate_is_an_error(settings, tmp_path, prepare, reason):
    messages = trust_messages(settings, WEBAUTHN_ATTESTATION_ROOTS=str(prepare(tmp_path)))
    assert [m.id for m in messages] == ["mfa_oauth_webauthn.E006"] and reason in messages[0].msg
    assert messages[0].is_serious()


def _blob(tmp_path, signer_name="mds.fidoalliance.org", **kwargs) -> tuple[str, str]:
    root = CertificateAuthority.root("Test MDS Root")
    key, certificate = root.server_certificate(signer_name)
    root.write(tmp_path / "mds-root.pem")
    (tmp_path / "blob.jwt").write_text(mds_blob(key, [certificate], [mds_entry()], **kwargs))
    return str(tmp_path / "blob.jwt"), str(tmp_path / "mds-root.pem")


def test_a_verified_blob_is_clean(settings, tmp_path):
    blob, root = _blob(tmp_path)
    assert trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=root) == []


def test_a_blob_without_its_root_is_an_error(settings, tmp_path):
    blob, _root = _blob(tmp_path)
    assert [m.id for m in trust_messages(settings, WEBAUTHN_MDS_BLOB=blob)] == ["mfa_oauth_webauthn.E007"]
    missing = str(tmp_path / "missing.pem")
    ids = [m.id for m in trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=missing)]
    assert ids == ["mfa_oauth_webauthn.E007"]


def test_a_blob_that_does_not_verify_is_an_error(settings, tmp_path):
    blob, root = _blob(tmp_path, signer_name="www.example.com")
    messages = trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=root)
    assert [m.id for m in messages] == ["mfa_oauth_webauthn.E008"]
    assert "not issued to 'mds.fidoalliance.org'" in messages[0].msg
    other = tmp_path / "other"
    other.mkdir()
    CertificateAuthority.root("Another Root").write(other / "root.pem")
    blob, _root = _blob(tmp_path)
    messages = trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=str(other / "root.pem"))
    assert [m.id for m in messages] == ["mfa_oauth_webauthn.E008"] and "does not chain" in messages[0].msg
    (tmp_path / "blob.jwt").write_text(Path(blob).read_text()[:-10] + "AAAAAAAAAA")  # a forged signature
    messages = trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=str(tmp_path / "mds-root.pem"))
    assert [m.id for m in messages] == ["mfa_oauth_webauthn.E008"] and "does not verify" in messages[0].msg
    (tmp_path / "blob.jwt").write_text("garbage")
    messages = trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=str(tmp_path / "mds-root.pem"))
    assert [m.id for m in messages] == ["mfa_oauth_webauthn.E008"]


def test_a_stale_blob_is_a_warning(settings, tmp_path):
    blob, root = _blob(tmp_path, next_update="2024-05-01", number=42)
    with time_machine.travel("2024-06-01", tick=False):
        messages = trust_messages(settings, WEBAUTHN_MDS_BLOB=blob, WEBAUTHN_MDS_ROOTS=root)
    assert [m.id for m in messages] == ["mfa_oauth_webauthn.W003"] and "number 42" in messages[0].msg
