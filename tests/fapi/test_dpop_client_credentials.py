"""client_credentials tokens bound to the DPoP key (RFC 9449 §5, §6; FAPI 2.0 §5.3.2.1), and the 401
that offers DPoP next to Bearer when a request carries no token (RFC 9449 §7.1). Driven with
requests-oauth2client against the live server."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jwskate import Jwt
from oauth2_provider.models import get_application_model
from requests_oauth2client import ClientSecretBasic, DPoPKey, DPoPToken, OAuth2Client, PrivateKeyJwt
from requests_oauth2client.exceptions import EndpointError

from mfa_oauth.dpop import access_token_hash
from mfa_oauth.fapi.models import ClientSecurityProfile
from mfa_oauth.models import TokenLink
from mfa_oauth.resource import parse_www_authenticate
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import client_key, make_client, public_set

pytestmark = pytest.mark.django_db(transaction=True)
OFFER = 'Bearer, DPoP algs="PS256 ES256 EdDSA"'


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    caches["default"].clear()
    yield


@pytest.fixture
def client_api(settings):
    settings.ROOT_URLCONF = "tests.fapi.urls_client_api"


def machine_client(base_url: str, client_id: str = "machine", **kwargs):
    """A confidential client that asks for tokens for itself (client_credentials)."""
    app = make_client(base_url, client_id=client_id, **kwargs)
    app.authorization_grant_type = get_application_model().GRANT_CLIENT_CREDENTIALS
    app.save()
    return app


def oauth_client(base_url: str, auth) -> OAuth2Client:
    metadata = requests.get(f"{base_url}/o/.well-known/openid-configuration", timeout=10).json()
    metadata.update(requests.get(f"{base_url}/o/.well-known/oauth-authorization-server", timeout=10).json())
    return OAuth2Client.from_discovery_document(metadata, auth=auth, testing=True)


def proof(key: DPoPKey, htm: str, htu: str, token: str | None = None) -> str:
    body = {"jti": str(uuid.uuid4()), "htm": htm, "htu": htu, "iat": int(time.time())}
    if token is not None:
        body["ath"] = access_token_hash(token)
    headers = {"jwk": dict(key.private_key.public_jwk())}
    return str(Jwt.sign(body, key=key.private_key, alg=key.alg, typ="dpop+jwt", extra_headers=headers))


def test_a_client_credentials_token_is_bound_to_the_proofs_key(live_server, user, client_api):
    machine_client(live_server.url)
    oauth = oauth_client(live_server.url, ClientSecretBasic("machine", CLIENT_SECRET))
    key = DPoPKey.generate(alg="ES256")
    token = oauth.client_credentials(scope="balance", dpop_key=key)
    assert isinstance(token, DPoPToken) and token.token_type == "DPoP"
    (link,) = TokenLink.objects.all()
    assert link.record is None and link.dpop_jkt == key.dpop_jkt

    # With a proof by its key (the library signs one per call, ath included) both resources serve it.
    for path in ("/client-api/", "/client-api/drf/"):
        answer = requests.get(f"{live_server.url}{path}", auth=token, timeout=10)
        assert answer.status_code == 200, (path, answer.headers.get("WWW-Authenticate"))
        assert answer.json()["client_id"] == "machine"

    # Introspection (RFC 9449 §6.2) by the client itself: cnf.jkt and token_type DPoP.
    info = oauth.introspect_token(token.access_token)
    assert info["active"] is True and info["cnf"] == {"jkt": key.dpop_jkt} and info["token_type"] == "DPoP"


def test_the_bound_client_token_is_refused_without_its_key(live_server, user, client_api):
    machine_client(live_server.url)
    oauth = oauth_client(live_server.url, ClientSecretBasic("machine", CLIENT_SECRET))
    token = oauth.client_credentials(scope="openid balance", dpop_key=DPoPKey.generate(alg="ES256"))
    thief = DPoPKey.generate(alg="ES256")
    for path in ("/client-api/", "/client-api/drf/", "/o/userinfo/"):
        url = f"{live_server.url}{path}"
        # As a bearer token (RFC 9449 §7.2: the stolen-token case).
        bearer = requests.get(url, headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10)
        assert bearer.status_code == 401, path
        assert bearer.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"'), path
        # With another key's proof.
        headers = {"Authorization": f"DPoP {token.access_token}", "DPoP": proof(thief, "GET", url, token.access_token)}
        stolen = requests.get(url, headers=headers, timeout=10)
        assert stolen.status_code == 401, path
        assert stolen.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"'), path
        # The DPoP scheme without a proof.
        bare = requests.get(url, headers={"Authorization": f"DPoP {token.access_token}"}, timeout=10)
        assert bare.status_code == 401 and 'error="invalid_dpop_proof"' in bare.headers["WWW-Authenticate"], path


def test_a_client_token_without_a_proof_stays_a_bearer_token(live_server, user, client_api):
    machine_client(live_server.url)
    oauth = oauth_client(live_server.url, ClientSecretBasic("machine", CLIENT_SECRET))
    token = oauth.client_credentials(scope="balance", dpop=False)
    assert not isinstance(token, DPoPToken) and token.token_type == "Bearer"
    assert not TokenLink.objects.exists()  # no row, no write for a bearer client token
    assert requests.get(f"{live_server.url}/client-api/", auth=token, timeout=10).status_code == 200
    info = oauth.introspect_token(token.access_token)
    assert info["active"] is True and "cnf" not in info and "token_type" not in info


def test_a_fapi_clients_client_credentials_request_needs_a_proof(live_server, user):
    """FAPI 2.0 §5.3.2.1 points 4 and 5: sender-constrained tokens for every grant of a profile client."""
    key = client_key("ES256")
    app = machine_client(live_server.url, client_id="fapi-machine", auth_method="private_key_jwt", jwks=public_set(key))
    ClientSecurityProfile.objects.filter(application=app).update(fapi2_security_profile=True)
    issuer = requests.get(f"{live_server.url}/o/.well-known/oauth-authorization-server", timeout=10).json()["issuer"]
    oauth = oauth_client(live_server.url, PrivateKeyJwt("fapi-machine", key, aud=issuer))
    with pytest.raises(EndpointError) as refused:
        oauth.client_credentials(scope="balance", dpop=False)
    assert refused.value.error == "invalid_dpop_proof"
    assert not get_application_model().objects.get(client_id="fapi-machine").accesstoken_set.exists()
    assert oauth.client_credentials(scope="balance", dpop=True).token_type == "DPoP"


def test_binding_a_client_token_adds_no_read_to_the_token_request(client, user):
    """The binding is written with the token's link row: one INSERT more than a bearer token, no SELECT."""
    machine_client("http://testserver")
    key = DPoPKey.generate(alg="ES256")
    url = "http://testserver/o/token/"
    auth = ClientSecretBasic("machine", CLIENT_SECRET)

    def token_request(headers) -> tuple[dict, list[str]]:
        prepared = requests.Request("POST", url, data={"grant_type": "client_credentials", "scope": "balance"})
        prepared = auth(prepared.prepare())
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        extra["HTTP_AUTHORIZATION"] = prepared.headers["Authorization"]
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url, {"grant_type": "client_credentials", "scope": "balance"}, **extra)
        assert response.status_code == 200, response.content
        return response.json(), [q["sql"].split()[0] for q in queries if "SAVEPOINT" not in q["sql"]]

    bearer, bearer_sql = token_request({})
    bound, bound_sql = token_request({"DPoP": proof(key, "POST", url)})
    assert bearer["token_type"] == "Bearer" and bound["token_type"] == "DPoP"
    assert bound_sql.count("SELECT") == bearer_sql.count("SELECT")
    assert bound_sql.count("INSERT") == bearer_sql.count("INSERT") + 1
    print(f"client_credentials token request: {len(bearer_sql)} statements bearer, {len(bound_sql)} bound")


def test_a_401_without_a_token_offers_dpop_next_to_bearer(live_server, client_api):
    """RFC 9449 §7.1: a resource that accepts both schemes names both; RFC 6750 §3.1: no error code."""
    for path in ("/client-api/", "/client-api/drf/", "/api/balance", "/o/userinfo/"):
        answer = requests.get(f"{live_server.url}{path}", timeout=10)
        assert answer.status_code == 401, path
        assert answer.headers["WWW-Authenticate"] == OFFER, path
        # The Bearer challenge's own params stop where the DPoP challenge starts.
        assert parse_www_authenticate(answer.headers["WWW-Authenticate"]) == {}, path
