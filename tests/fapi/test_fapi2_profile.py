"""The FAPI 2.0 Security Profile switch: one test per clause that applies to the authorization server
(FAPI 2.0 Security Profile §5), driven with requests-oauth2client."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.utils import timezone
from requests_oauth2client import DPoPKey, OAuth2Client, PrivateKeyJwt
from requests_oauth2client.exceptions import EndpointError, InvalidGrant

from mfa_oauth.fapi.models import ClientSecurityProfile
from mfa_oauth.models import AuthenticationRecord
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import FAPI_REDIRECT, browser_authorizes, client_key, public_set

pytestmark = pytest.mark.django_db(transaction=True)
REDIRECT = FAPI_REDIRECT


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    caches["default"].clear()
    yield


def fapi_client(base: str, key, **kwargs) -> OAuth2Client:
    metadata = requests.get(f"{base}/o/.well-known/oauth-authorization-server", timeout=10).json()
    return OAuth2Client.from_discovery_document(
        metadata,
        authorization_server_jwks=requests.get(metadata["jwks_uri"], timeout=10).json(),
        auth=kwargs.pop("auth", None) or PrivateKeyJwt("bank-app", key, aud=metadata["issuer"]),
        redirect_uri=REDIRECT,
        dpop_bound_access_tokens=True,
        testing=True,
        **kwargs,
    )


def code_via_par(client: OAuth2Client, device, scope: str = "balance"):
    authorization = client.authorization_request(scope=scope)
    pushed = client.pushed_authorization_request(authorization)
    answer = browser_authorizes(pushed.uri, device)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(REDIRECT)
    return authorization, authorization.validate_callback(answer.headers["Location"])


def redeem(client, authorization, callback, **kwargs):
    data = {
        "grant_type": "authorization_code",
        "code": callback.code,
        "redirect_uri": callback.redirect_uri,
        "code_verifier": callback.code_verifier,
    }
    return client.token_request(data, dpop_key=kwargs.pop("dpop_key", authorization.dpop_key), **kwargs)


def test_the_whole_profile_flow(live_server, fapi_app, fapi_key, totp_device):
    client = fapi_client(live_server.url, fapi_key)
    authorization, callback = code_via_par(client, totp_device)
    token = redeem(client, authorization, callback)
    assert token.token_type == "DPoP"
    assert requests.get(f"{live_server.url}/api/balance", auth=token, timeout=10).status_code == 200


def test_5_3_2_2_3_par_is_required(live_server, fapi_app, fapi_key):
    plain = fapi_client(live_server.url, fapi_key).authorization_request(scope="balance")
    answer = requests.get(plain.uri, allow_redirects=False, timeout=10)
    assert "error=invalid_request" in answer.headers["Location"] and "code=" not in answer.headers["Location"]


def test_5_3_2_1_6_client_authenticates_with_private_key_jwt_only(live_server, fapi_app, fapi_key):
    secret = fapi_client(live_server.url, fapi_key, auth=("bank-app", CLIENT_SECRET))
    response = requests.post(
        f"{live_server.url}/o/par/",
        data=dict(secret.authorization_request(scope="balance").args),
        auth=("bank-app", CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_5_3_2_2_5_pkce_s256_is_required(live_server, fapi_app, fapi_key):
    client = fapi_client(live_server.url, fapi_key)
    body = dict(client.authorization_request(scope="balance").args)
    body.pop("code_challenge")
    body.pop("code_challenge_method")
    prepared = client.auth(requests.Request("POST", f"{live_server.url}/o/par/", data=body).prepare())
    response = requests.Session().send(prepared, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "S256" in response.json()["error_description"]


def test_5_3_2_2_8_redirect_uris_are_https(live_server, fapi_app):
    fapi_app.redirect_uris = f"{REDIRECT} http://bank-app.example/cb"
    fapi_app.save()
    profile = ClientSecurityProfile.objects.get(application=fapi_app)
    with pytest.raises(ValidationError, match="not https"):
        profile.full_clean()


def test_5_3_2_1_4_tokens_are_sender_constrained(live_server, fapi_app, fapi_key, totp_device):
    client = fapi_client(live_server.url, fapi_key)
    authorization, callback = code_via_par(client, totp_device)
    with pytest.raises(EndpointError) as refused:
        redeem(client, authorization, callback, dpop=False, dpop_key=None)
    assert refused.value.error == "invalid_dpop_proof"
    # The code is still good for the request with a proof.
    assert redeem(client, authorization, callback).token_type == "DPoP"


def test_5_3_2_1_11_codes_live_at_most_60_seconds(live_server, fapi_app, fapi_key, totp_device):
    client = fapi_client(live_server.url, fapi_key)
    authorization, callback = code_via_par(client, totp_device)
    AuthenticationRecord.objects.update(created=timezone.now() - timedelta(seconds=61))
    with pytest.raises(InvalidGrant):
        redeem(client, authorization, callback)


def test_5_3_2_2_1_code_response_type_only(live_server, fapi_app, fapi_key):
    client = fapi_client(live_server.url, fapi_key)
    body = dict(client.authorization_request(scope="balance").args)
    body["response_type"] = "code id_token"
    prepared = client.auth(requests.Request("POST", f"{live_server.url}/o/par/", data=body).prepare())
    response = requests.Session().send(prepared, timeout=10)
    assert response.status_code == 400


def test_5_3_2_2_7_iss_in_the_authorization_response(live_server, fapi_app, fapi_key, totp_device):
    client = fapi_client(live_server.url, fapi_key)
    _authorization, callback = code_via_par(client, totp_device)
    assert callback.kwargs["iss"] == f"{live_server.url}/o"  # RFC 9207


def test_5_4_1_algorithms(live_server, fapi_app, fapi_key, settings):
    # Even a site that widened the list to RS256 does not accept it from a client under the profile.
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "CLIENT_ASSERTION_ALGORITHMS": ("RS256", "ES256")}
    rsa = client_key("RS256", kid="rsa")
    ClientSecurityProfile.objects.filter(application=fapi_app).update(jwks=public_set(fapi_key, rsa))
    client = fapi_client(live_server.url, rsa, auth=PrivateKeyJwt("bank-app", rsa, aud=f"{live_server.url}/o"))
    with pytest.raises(Exception) as refused:
        client.pushed_authorization_request(client.authorization_request(scope="balance"))
    assert "invalid_client" in repr(refused.value) or getattr(refused.value, "error", "") == "invalid_client"
    # DPoP proofs: RS256 is not on the list either (MFA_OAUTH["DPOP_ALGORITHMS"]).
    token_url = f"{live_server.url}/o/token/"
    rs256_proof = str(DPoPKey.generate(alg="RS256").proof(htm="POST", htu=token_url))
    response = requests.post(
        token_url, data={"grant_type": "authorization_code"}, headers={"DPoP": rs256_proof}, timeout=10
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
