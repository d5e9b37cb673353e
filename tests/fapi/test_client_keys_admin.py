"""The client's keys in the admin: public JWK Sets only, private_key_jwt never without keys."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from mfa_oauth.fapi.models import ClientSecurityProfile
from tests.conftest import pass_second_factor
from tests.fapi.helpers import client_key, public_set


@pytest.fixture
def profile(application):
    return ClientSecurityProfile(application=application, token_endpoint_auth_method="private_key_jwt")


def test_a_public_key_set_is_accepted(profile):
    profile.jwks = public_set(client_key("ES256"), client_key("PS256", kid="k2"))
    profile.full_clean()


@pytest.mark.parametrize(
    ("jwks", "jwks_uri", "message"),
    [
        ({}, "", "needs the client's public keys"),
        ("not a set", "", "JWK Set"),
        ({"keys": [{"kty": "EC"}]}, "", "Not a valid JWK Set"),
        ("private", "", "private key"),
        ("public", "https://rp.example/jwks.json", "not both"),
    ],
)
def test_bad_keys_are_refused_with_a_message(profile, jwks, jwks_uri, message):
    key = client_key("ES256")
    profile.jwks = {"keys": [dict(key)]} if jwks == "private" else public_set(key) if jwks == "public" else jwks
    profile.jwks_uri = jwks_uri
    with pytest.raises(ValidationError, match=message):
        profile.full_clean()
    assert not ClientSecurityProfile.objects.exists()


def test_the_application_page_edits_the_profile(client, application):
    staff = get_user_model().objects.create_user("op", "op@example.com", "pw", is_staff=True, is_superuser=True)
    pass_second_factor(client, staff)
    page = client.get(f"/admin/oauth2_provider/application/{application.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="mfa_security-0-token_endpoint_auth_method"' in content
    assert 'name="mfa_security-0-require_pushed_authorization_requests"' in content
