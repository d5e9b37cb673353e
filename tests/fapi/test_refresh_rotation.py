"""Refresh-token rotation per client: FAPI 2.0 Security Profile §5.3.2.1 point 9 ("shall not use refresh
token rotation except in extraordinary circumstances") for clients under the switch; every other client
follows the site's ROTATE_REFRESH_TOKEN (on in the reference site), with DOT's reuse protection.
Driven with requests-oauth2client against the live server."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from django.core.cache import caches
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from requests_oauth2client import ClientSecretBasic, DPoPKey, OAuth2Client
from requests_oauth2client.exceptions import InvalidGrant

from mfa_oauth.models import TokenLink
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import browser_authorizes, fapi_application, make_client
from tests.fapi.test_fapi2_profile import fapi_client, redeem
from tests.fapi.test_rar import ACCOUNTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    caches["default"].clear()
    yield


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record_of_access_token(value: str) -> int:
    access = get_access_token_model().objects.get(token_checksum=checksum(value))
    return TokenLink.objects.get(access_token=access).record_id


@pytest.fixture
def fapi_app(live_server, user, fapi_key):
    return fapi_application(live_server.url, fapi_key, authorization_details_types=["account_information"])


def test_5_3_2_1_9_refresh_tokens_are_not_rotated(live_server, fapi_app, fapi_key, totp_device):
    client = fapi_client(live_server.url, fapi_key)
    authorization = client.authorization_request(scope="openid balance", authorization_details=json.dumps([ACCOUNTS]))
    answer = browser_authorizes(client.pushed_authorization_request(authorization).uri, totp_device)
    callback = authorization.validate_callback(answer.headers["Location"])
    token = redeem(client, authorization, callback)
    family = record_of_access_token(token.access_token)

    first = client.refresh_token(token)  # the DPoPToken: a proof by the same key
    second = client.refresh_token(first)
    for refreshed in (first, second):
        # The same refresh token keeps working; each answer carries it unchanged (RFC 6749 §6).
        assert refreshed.refresh_token == token.refresh_token
        assert refreshed.token_type == "DPoP"  # still bound (RFC 9449 §5)
        assert refreshed.kwargs["authorization_details"][0]["accounts"] == ["DE0012341234"]  # RFC 9396 §6
        assert refreshed.id_token is not None and refreshed.id_token.alg == "ES256"
    assert len({token.access_token, first.access_token, second.access_token}) == 3
    assert get_refresh_token_model().objects.filter(revoked__isnull=True).count() == 1
    # The new access token belongs to the same family: the same AuthenticationRecord through TokenLink.
    assert record_of_access_token(second.access_token) == family
    link = TokenLink.objects.get(refresh_token__token_checksum=checksum(token.refresh_token))
    assert link.record_id == family
    assert requests.get(f"{live_server.url}/api/balance", auth=second, timeout=10).status_code == 200
    # The binding to the DPoP key stays: the kept refresh token with another key's proof is refused.
    with pytest.raises(InvalidGrant):
        client.token_request(
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token},
            dpop_key=DPoPKey.generate(alg="ES256"),
        )


def test_other_clients_rotate_and_a_reused_refresh_token_is_refused(live_server, user, totp_device):
    make_client(live_server.url)
    metadata = requests.get(f"{live_server.url}/o/.well-known/oauth-authorization-server", timeout=10).json()
    client = OAuth2Client.from_discovery_document(
        metadata, auth=ClientSecretBasic("bank-app", CLIENT_SECRET), redirect_uri=f"{live_server.url}/cb", testing=True
    )
    authorization = client.authorization_request(scope="balance")
    answer = browser_authorizes(authorization.uri, totp_device)
    token = client.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    rotated = client.refresh_token(token)
    assert rotated.refresh_token != token.refresh_token  # the site's ROTATE_REFRESH_TOKEN
    assert (
        record_of_access_token(rotated.access_token)
        == TokenLink.objects.get(refresh_token__token_checksum=checksum(rotated.refresh_token)).record_id
    )
    with pytest.raises(InvalidGrant):
        client.refresh_token(token.refresh_token)  # the old one is spent
    # DOT's REFRESH_TOKEN_REUSE_PROTECTION: the reuse revoked the family, the rotated token included.
    with pytest.raises(InvalidGrant):
        client.refresh_token(rotated)
