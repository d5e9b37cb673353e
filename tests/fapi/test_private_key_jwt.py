"""private_key_jwt client authentication (RFC 7523 §2.2/§3, OIDC Core §9) with requests-oauth2client,
at the PAR, token, introspection and revocation endpoints."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.core.cache import caches
from jwskate import Jwt
from requests_oauth2client import OAuth2Client, PrivateKeyJwt
from requests_oauth2client.exceptions import InvalidClient

from mfa_oauth import client_auth
from mfa_oauth.fapi.models import PushedAuthorization
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import browser_authorizes, client_key, make_client, public_set
from tests.fapi.keyserver import key_server
from tests.services import require_redis

pytestmark = pytest.mark.django_db(transaction=True)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    # A per-process cache: the jti values and key sets of one test never reach the next.
    caches["default"].clear()
    yield


def oauth_client(base: str, auth) -> OAuth2Client:
    return OAuth2Client.from_discovery_endpoint(
        # RFC 8414 metadata: it names the introspection and revocation endpoints too.
        f"{base}/o/.well-known/oauth-authorization-server",
        auth=auth,
        redirect_uri=f"{base}/cb",
        testing=True,
    )


def assertion(key, base: str, **claims) -> str:
    now = int(time.time())
    body = {
        "iss": "bank-app",
        "sub": "bank-app",
        "aud": f"{base}/o",
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return str(Jwt.sign({k: v for k, v in body.items() if v is not None}, key=key, alg=key.alg))


def token_request(base: str, client_assertion: str, **extra) -> requests.Response:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion,
        **extra,
    }
    return requests.post(f"{base}/o/token/", data=data, timeout=10)


def test_discovery_advertises_private_key_jwt(live_server):
    data = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10).json()
    assert "private_key_jwt" in data["token_endpoint_auth_methods_supported"]
    assert data["token_endpoint_auth_signing_alg_values_supported"] == ["PS256", "ES256", "EdDSA"]


def test_par_and_token_with_private_key_jwt(live_server, user, totp_device):
    key = client_key("ES256")
    make_client(live_server.url, auth_method="private_key_jwt", jwks=public_set(key), require_par=True)
    # The library's default audience is the URL of the endpoint called (RFC 7523 §3, RFC 9126 §2).
    client = oauth_client(live_server.url, PrivateKeyJwt("bank-app", key))
    authorization = client.authorization_request(scope="openid")
    pushed = client.pushed_authorization_request(authorization)
    answer = browser_authorizes(pushed.uri, totp_device)
    token = client.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    assert token.access_token

    # The issuer as audience (FAPI 2.0 §5.3.2.1), at introspection and revocation too.
    by_issuer = oauth_client(live_server.url, PrivateKeyJwt("bank-app", key, aud=f"{live_server.url}/o"))
    assert by_issuer.introspect_token(token.access_token)["active"] is True
    assert by_issuer.revoke_access_token(token.access_token) is True
    assert by_issuer.introspect_token(token.access_token)["active"] is False


@pytest.mark.parametrize("alg", ["PS256", "EdDSA"])
def test_each_allowed_algorithm(live_server, user, alg):
    key = client_key(alg)
    app = make_client(live_server.url, auth_method="private_key_jwt", jwks=public_set(key))
    app.authorization_grant_type = app.GRANT_CLIENT_CREDENTIALS
    app.save()
    client = oauth_client(live_server.url, PrivateKeyJwt("bank-app", key))
    assert client.client_credentials(scope="balance").access_token


@pytest.fixture
def credentials_client(live_server, user):
    key = client_key("ES256")
    app = make_client(live_server.url, auth_method="private_key_jwt", jwks=public_set(key))
    app.authorization_grant_type = app.GRANT_CLIENT_CREDENTIALS
    app.save()
    return key


def test_replayed_assertion_is_refused(live_server, credentials_client):
    signed = assertion(credentials_client, live_server.url)
    assert token_request(live_server.url, signed).status_code == 200
    replay = token_request(live_server.url, signed)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_client"
    assert "access_token" not in replay.json()
    # The library with a constant jti meets the same refusal (RFC 7523 §3 point 7).
    fixed = oauth_client(live_server.url, PrivateKeyJwt("bank-app", credentials_client, jti_gen=lambda: "same"))
    fixed.client_credentials()
    with pytest.raises(InvalidClient):
        fixed.client_credentials()


def test_replay_refused_across_web_nodes(live_server, credentials_client, settings):
    """The jti store is the shared cache: a second node (here: another thread with its own Redis
    connection) refuses the value the live server accepted."""
    settings.CACHES = {
        **settings.CACHES,
        "replay": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": require_redis(),
            "KEY_PREFIX": f"test-fapi-{uuid.uuid4()}",
        },
    }
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "REPLAY_CACHE": "replay"}
    signed = assertion(credentials_client, live_server.url)
    assert token_request(live_server.url, signed).status_code == 200
    with pytest.raises(client_auth.InvalidAssertion, match="replayed"):
        client_auth.verify(signed, None, {f"{live_server.url}/o"})


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "https://another-server.example/o"}, "wrong aud"),
        ({"aud": None}, "no aud"),
        ({"exp": None}, "no exp"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"exp": int(time.time()) + 3600}, "lives an hour"),
        ({"jti": None}, "no jti"),
        ({"sub": "someone-else"}, "sub is not the client"),
        ({"nbf": int(time.time()) + 600}, "not yet valid"),
    ],
)
def test_bad_assertion_claims_are_refused(live_server, credentials_client, claims, why):
    response = token_request(live_server.url, assertion(credentials_client, live_server.url, **claims))
    assert response.status_code == 401, why
    assert response.json()["error"] == "invalid_client"


def test_signature_and_algorithm_refusals(live_server, credentials_client):
    # Signed by a key the client never registered.
    stranger = client_key("ES256")
    assert token_request(live_server.url, assertion(stranger, live_server.url)).status_code == 401
    # RS256 is not on the FAPI 2.0 allow-list, whatever the key.
    rsa = client_key("RS256", kid="rsa")
    make_client(live_server.url, client_id="rsa-app", auth_method="private_key_jwt", jwks=public_set(rsa))
    signed = assertion(rsa, live_server.url, iss="rsa-app", sub="rsa-app")
    assert token_request(live_server.url, signed).status_code == 401
    # alg "none" and HMAC with the public key as secret are not signatures.
    header_none = "eyJhbGciOiJub25lIn0"
    payload = assertion(credentials_client, live_server.url).split(".")[1]
    assert token_request(live_server.url, f"{header_none}.{payload}.").status_code == 401


@pytest.mark.parametrize(
    "garbage",
    ["", "a.b", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln", "x" * 20000, "\u00e9.\u00e9.\u00e9"],
)
def test_malformed_assertions_get_invalid_client(live_server, credentials_client, garbage):
    response = token_request(live_server.url, garbage)
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_wrong_assertion_type_and_mixed_methods(live_server, credentials_client):
    signed = assertion(credentials_client, live_server.url)
    response = token_request(live_server.url, signed, client_assertion_type="urn:example:other")
    assert response.status_code == 401
    # RFC 6749 §2.3: a secret beside the assertion is refused, even a right one.
    response = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed},
        auth=("bank-app", CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 401


def test_secret_no_longer_accepted_for_a_private_key_jwt_client(live_server, credentials_client):
    for kwargs in (
        {"auth": ("bank-app", CLIENT_SECRET)},
        {"data": {"grant_type": "client_credentials", "client_id": "bank-app", "client_secret": CLIENT_SECRET}},
    ):
        data = kwargs.pop("data", {"grant_type": "client_credentials"})
        response = requests.post(f"{live_server.url}/o/token/", data=data, timeout=10, **kwargs)
        assert response.status_code == 401, response.content
    response = requests.post(
        f"{live_server.url}/o/par/",
        data={"response_type": "code", "redirect_uri": f"{live_server.url}/cb", "code_challenge": "x" * 43},
        auth=("bank-app", CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 401 and not PushedAuthorization.objects.exists()


def test_keys_from_jwks_uri_are_fetched_once_and_cached(live_server, user):
    key = client_key("ES256")
    with key_server(public_set(key)) as server:
        app = make_client(live_server.url, auth_method="private_key_jwt", jwks_uri=server.url)
        app.authorization_grant_type = app.GRANT_CLIENT_CREDENTIALS
        app.save()
        client = oauth_client(live_server.url, PrivateKeyJwt("bank-app", key))
        assert client.client_credentials().access_token
        assert client.client_credentials().access_token
        assert len(server.hits) == 1


@pytest.mark.parametrize("trouble", ["too large", "too slow", "not a key set", "private key"])
def test_jwks_uri_trouble_refuses_the_client(live_server, user, settings, trouble):
    key = client_key("ES256")
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "JWKS_URI_TIMEOUT": 0.5, "JWKS_URI_MAX_BYTES": 4096}
    document, delay = public_set(key), 0.0
    if trouble == "too large":
        document = {"keys": [dict(key.public_jwk())] * 100}
    elif trouble == "too slow":
        delay = 2.0
    elif trouble == "not a key set":
        document = b"<html>hello</html>"
    else:
        document = {"keys": [dict(key)]}
    with key_server(document, delay=delay) as server:
        app = make_client(live_server.url, auth_method="private_key_jwt", jwks_uri=server.url)
        app.authorization_grant_type = app.GRANT_CLIENT_CREDENTIALS
        app.save()
        response = token_request(live_server.url, assertion(key, live_server.url))
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"
