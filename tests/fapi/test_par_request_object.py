"""Signed request objects at the PAR endpoint (RFC 9126 §3, RFC 9101 §4–§6), with requests-oauth2client:
``AuthorizationRequest.sign()`` makes the object, ``PrivateKeyJwt`` authenticates the push and
``OAuth2Client.parse_pushed_authorization_response`` reads the answer. (requests-oauth2client 1.8.0's
``pushed_authorization_request()`` takes only an unsigned request, so the push itself is one POST.)"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid

import pytest
import requests
from django.core.cache import caches
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwskate import Jwk, Jwt
from requests_oauth2client import ClientSecretBasic, OAuth2Client, PrivateKeyJwt

from idp_site.api.bank import accounts_of
from mfa_oauth.fapi.models import ClientSecurityProfile, PushedAuthorization
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import browser_authorizes, client_key, make_client, public_set
from tests.fapi.keyserver import key_server
from tests.robustness.strategies import json_values, junk_text

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT_ID = "bank-app"


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    # A per-process cache: the jti values of one test never reach the next.
    caches["default"].clear()
    yield


@pytest.fixture
def key():
    return client_key("ES256")


@pytest.fixture
def bank(live_server, user, key):
    app = make_client(live_server.url, auth_method="private_key_jwt", jwks=public_set(key), require_par=True)
    ClientSecurityProfile.objects.filter(application=app).update(authorization_details_types=["account_information"])
    metadata = requests.get(f"{live_server.url}/o/.well-known/oauth-authorization-server", timeout=10).json()
    return OAuth2Client.from_discovery_document(
        metadata,
        authorization_server_jwks=requests.get(metadata["jwks_uri"], timeout=10).json(),
        auth=PrivateKeyJwt(CLIENT_ID, key, aud=metadata["issuer"]),
        redirect_uri=f"{live_server.url}/cb",
        testing=True,
    )


def envelope(issuer: str, **claims) -> dict:
    """The request object's own claims (RFC 9101 §4, FAPI 2.0 Message Signing §5.3.1)."""
    return {"iss": CLIENT_ID, "aud": issuer, "jti": str(uuid.uuid4()), "nbf": int(time.time()), **claims}


def push(client: OAuth2Client, request_object: str, **form) -> requests.Response:
    data = {"client_id": CLIENT_ID, "request": request_object, **form}
    return requests.post(client.pushed_authorization_request_endpoint, data=data, auth=client.auth, timeout=10)


def unsigned(claims: dict, header: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def test_discovery_tells_where_request_objects_are_accepted(live_server):
    for path in ("/o/.well-known/openid-configuration", "/o/.well-known/oauth-authorization-server"):
        data = requests.get(live_server.url + path, timeout=10).json()
        assert data["request_object_signing_alg_values_supported"] == ["PS256", "ES256", "EdDSA"]
        # The authorization endpoint itself still refuses the request parameter (OIDC Core §6.1).
        assert data["request_parameter_supported"] is False
        assert data["pushed_authorization_request_endpoint"] == f"{live_server.url}/o/par/"


def test_signed_request_object_completes_the_flow(live_server, bank, key, user, totp_device):
    current, savings = accounts_of(user)
    detail = {"type": "account_information", "actions": ["read_balances"], "accounts": [current.id]}
    # RFC 9396 §3: inside a request object, authorization_details is a JSON array, not a string.
    authorization = bank.authorization_request(
        scope="openid balance", authorization_details=[detail], **envelope(bank.issuer)
    )
    signed = authorization.sign(key, lifetime=60)
    # RFC 9101 §6.3: the form's own scope is not used, only the object's.
    answer = push(bank, str(signed.request), scope="openid profile email")
    assert answer.status_code == 201, answer.text
    pushed = bank.parse_pushed_authorization_response(answer)
    stored = PushedAuthorization.objects.get().parameters
    assert stored["scope"] == "openid balance" and "jti" not in stored and "iss" not in stored

    callback = browser_authorizes(pushed.uri, totp_device)
    assert callback.status_code == 302, callback.text[:500]
    token = bank.authorization_code(authorization.validate_callback(callback.headers["Location"]))
    assert token.scope == "openid balance"
    assert token.kwargs["authorization_details"] == [detail]


def test_a_replayed_request_object_is_refused(live_server, bank, key):
    signed = bank.authorization_request(scope="openid", **envelope(bank.issuer)).sign(key, lifetime=60)
    assert push(bank, str(signed.request)).status_code == 201
    again = push(bank, str(signed.request))
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_request_object",
        "error_description": "jti was used before: a replayed request object",
    }
    assert PushedAuthorization.objects.count() == 1


def _signed(client, key, lifetime: int | None = 60, **claims) -> str:
    body = {**client.authorization_request(scope="openid").args, **envelope(client.issuer), **claims}
    now = int(time.time())
    if lifetime is not None:
        body.update(iat=now, exp=now + lifetime)
    return str(Jwt.sign({k: v for k, v in body.items() if v is not None}, key=key, alg=key.alg))


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda c, k: _signed(c, client_key("ES256")), "signature does not verify"),
        (lambda c, k: _signed(c, k, aud="https://other-bank.example"), "aud must be this server's issuer"),
        (lambda c, k: _signed(c, k, aud=f"{c.issuer}/par/"), "aud must be this server's issuer"),
        (lambda c, k: _signed(c, k, lifetime=-120), "has expired"),
        (lambda c, k: _signed(c, k, lifetime=None), "exp is missing"),
        (lambda c, k: _signed(c, k, lifetime=4000), "lives too long"),
        (lambda c, k: _signed(c, k, nbf=int(time.time()) + 600), "nbf is in the future"),
        (lambda c, k: _signed(c, k, jti=None), "jti is missing"),
        (lambda c, k: _signed(c, k, iss="other-app"), "iss must be the client id"),
        (lambda c, k: _signed(c, k, client_id="other-app"), "client_id in the request object"),
        (lambda c, k: _signed(c, k, request_uri="urn:ietf:params:oauth:request_uri:x"), "must not contain"),
        (lambda c, k: _signed(c, k, max_age=[1]), "must be a string or an integer"),
        (
            lambda c, k: unsigned({**c.authorization_request().args, **envelope(c.issuer)}, {"alg": "none"}),
            "alg 'none' is not accepted",
        ),
        (
            lambda c, k: str(
                Jwt.sign(
                    {**c.authorization_request().args, **envelope(c.issuer), "exp": int(time.time()) + 60},
                    key=Jwk.generate(alg="HS256"),
                    alg="HS256",
                )
            ),
            "alg 'HS256' is not accepted",
        ),
        (lambda c, k: "not-a-jws", "not a signed JWT"),
        (lambda c, k: "e30.bm90IGpzb24.c2ln", "not a signed JWT"),
        (lambda c, k: "a.b.c.d.e", "encrypted request objects are not accepted"),
        (lambda c, k: _signed(c, k).replace(".", ".x", 1), "not a signed JWT"),
    ],
    ids=[
        "bad-signature",
        "wrong-aud",
        "par-endpoint-aud",
        "expired",
        "no-exp",
        "too-long",
        "nbf-future",
        "no-jti",
        "wrong-iss",
        "client-id-mismatch",
        "request-uri-inside",
        "not-a-parameter",
        "alg-none",
        "alg-hs256",
        "not-jws",
        "payload-not-json",
        "encrypted",
        "mangled",
    ],
)
def test_bad_request_objects_get_invalid_request_object(live_server, bank, key, make, description):
    answer = push(bank, make(bank, key))
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "invalid_request_object"
    assert description in body["error_description"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert not PushedAuthorization.objects.exists()


def test_the_object_is_validated_like_any_pushed_request(live_server, bank, key):
    """After the object verifies, oauthlib's checks, PKCE and RAR run on its parameters."""
    for claims, error in (
        ({"redirect_uri": "https://attacker.example/cb"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"authorization_details": [{"type": "payment_initiation"}]}, "invalid_authorization_details"),
        ({"dpop_jkt": "too-short"}, "invalid_request"),
    ):
        answer = push(bank, _signed(bank, key, **claims))
        assert answer.status_code == 400 and answer.json()["error"] == error, (claims, answer.text)
    assert not PushedAuthorization.objects.exists()


def test_client_authentication_still_comes_first(live_server, bank, key):
    """A good object does not stand in for client authentication (RFC 9126 §2.1)."""
    answer = requests.post(
        bank.pushed_authorization_request_endpoint,
        data={"client_id": CLIENT_ID, "request": _signed(bank, key)},
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert not PushedAuthorization.objects.exists()


def test_keys_from_jwks_uri_and_a_secret_client(live_server, user):
    """The object is verified with the client's registered keys however they are registered (here a
    jwks_uri), also for a client that authenticates with its secret; a client without keys is refused."""
    key = client_key("PS256", kid="by-uri")
    with key_server(public_set(key)) as server:
        make_client(live_server.url, jwks_uri=server.url)
        client = OAuth2Client.from_discovery_endpoint(
            f"{live_server.url}/o/.well-known/oauth-authorization-server",
            auth=ClientSecretBasic(CLIENT_ID, CLIENT_SECRET),
            redirect_uri=f"{live_server.url}/cb",
            testing=True,
        )
        signed = client.authorization_request(scope="openid", **envelope(client.issuer)).sign(key, lifetime=60)
        answer = push(client, str(signed.request))
        assert answer.status_code == 201, answer.text
        assert client.parse_pushed_authorization_response(answer).request_uri
        assert server.hits

    make_client(live_server.url, client_id="keyless-app")
    keyless = requests.post(
        client.pushed_authorization_request_endpoint,
        data={"client_id": "keyless-app", "request": _signed(client, key, iss="keyless-app", client_id="keyless-app")},
        auth=("keyless-app", CLIENT_SECRET),
        timeout=10,
    )
    assert keyless.status_code == 400 and keyless.json()["error"] == "invalid_request_object"
    assert "no keys registered" in keyless.json()["error_description"]


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    junk=st.dictionaries(
        st.sampled_from(
            [
                "scope",
                "redirect_uri",
                "response_type",
                "max_age",
                "claims",
                "authorization_details",
                "dpop_jkt",
                "code_challenge",
                "code_challenge_method",
                "state",
                "nonce",
                "prompt",
                "iss",
                "aud",
                "exp",
                "nbf",
                "iat",
                "jti",
                "client_id",
                "request",
                "request_uri",
            ]
        ),
        json_values,
        max_size=4,
    ),
    raw=st.one_of(st.none(), junk_text()),
)
def test_junk_request_objects_get_a_spec_error_never_a_500(live_server, bank, key, junk, raw):
    """Signed objects with junk claims, and junk where the object should be: 201 or a JSON error."""
    answer = push(bank, raw if raw is not None else _signed(bank, key, **junk))
    assert answer.status_code in (201, 400), answer.text[:300]
    if answer.status_code == 400:
        assert answer.json()["error"] in {
            "invalid_request_object",
            "invalid_request",
            "invalid_scope",
            "unsupported_response_type",
            "invalid_authorization_details",
        }, answer.text
    else:
        assert PushedAuthorization.objects.filter(parameters__client_id=CLIENT_ID).exists()


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 10**400},
        {"exp": float("nan")},
        {"nbf": -(10**400)},
        {"iat": float("inf")},
        {"authorization_details": [{"type": "account_information\x00"}]},
        {"aud": [{"a": 1}, None]},
        {"jti": ["x"]},
        {"client_id": None},
        {"state": "\x00"},
    ],
)
def test_odd_claim_values_are_refused_not_crashed(live_server, bank, key, claims):
    timed = {"exp": int(time.time()) + 60, **claims} if {"exp", "iat"} & set(claims) else None
    answer = push(bank, _signed(bank, key, lifetime=None, **timed) if timed else _signed(bank, key, **claims))
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"] == "invalid_request_object", answer.text
