"""Malformed authorization requests get a clear error page or a spec-conformant OAuth error, never a 500
and never a code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.oauth import AuthorizationRequest, login, pass_totp

pytestmark = pytest.mark.django_db

MALFORMED = [
    {"response_type": "junk"},
    {"response_type": ""},
    {"scope": "openid nonexistent"},
    {"scope": ""},
    {"claims": "{not json"},
    {"claims": "[1, 2]"},
    {"claims": '{"id_token": {"acr": {"essential": true, "values": "phr"}}}'},
    {"acr_values": "x" * 5000},
    {"prompt": "none login"},
    {"prompt": "garbage"},
    {"max_age": "99999999999999999999999"},
    {"state": "ünïcødé ☃"},
    {"code_challenge": "short"},
    {"code_challenge_method": "S512"},
    {"redirect_uri": "not a url"},
    {"redirect_uri": None},
    {"client_id": None},
    {"nonce": "n" * 10000},
]


@pytest.fixture
def verified(client, application, totp_device):
    login(client)
    pass_totp(client, totp_device)
    return client


@pytest.mark.parametrize("override", MALFORMED, ids=[str(m)[:40] for m in MALFORMED])
@pytest.mark.parametrize("signed_in", [False, True])
def test_malformed_request_never_500_never_code(client, application, totp_device, override, signed_in):
    if signed_in:
        login(client)
        pass_totp(client, totp_device)
    response = client.get(AuthorizationRequest().url(**override))
    assert response.status_code < 500
    location = response.get("Location", "")
    assert "code=" not in location
    if location.startswith("https://rp.example/cb"):
        assert "error" in parse_qs(urlparse(location).query)


def test_stale_consent_form_after_logout_starts_over(client, application, totp_device):
    from tests.oauth import form_fields

    request = AuthorizationRequest()
    login(client)
    pass_totp(client, totp_device)
    fields = form_fields(client.get(request.url()))
    fields["allow"] = "Authorize"
    client.post("/accounts/logout/")
    response = client.post(request.url(), fields)
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == "/accounts/login/"


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_refused(client, application, method):
    response = getattr(client, method)(AuthorizationRequest().url())
    assert response.status_code in (302, 405)
