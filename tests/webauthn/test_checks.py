"""System checks catch WebAuthn settings browsers would refuse, or that weaken origin checking."""

from __future__ import annotations

import pytest

from mfa_oauth.webauthn.checks import check_webauthn_settings
from mfa_oauth.webauthn.config import expected_origins, host_matches_rp_id


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
