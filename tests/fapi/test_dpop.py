"""DPoP (RFC 9449) with requests-oauth2client: proofs at PAR, token, userinfo and the bank API, tokens
bound to the key, and each refusal (stolen token, replayed proof, wrong htu/htm, ...)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from django.core.cache import caches
from jwskate import Jwt
from requests_oauth2client import DPoPKey, DPoPToken, OAuth2Client, PrivateKeyJwt
from requests_oauth2client.exceptions import InvalidGrant

from mfa_oauth.dpop import access_token_hash
from tests.fapi.helpers import browser_authorizes, client_key, make_client, public_set

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    caches["default"].clear()
    yield


@pytest.fixture
def bank_app(live_server, user):
    key = client_key("ES256")
    make_client(live_server.url, auth_method="private_key_jwt", jwks=public_set(key), require_par=True)
    # OIDC discovery names userinfo, RFC 8414 metadata introspection and revocation: both documents.
    metadata = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10).json()
    metadata.update(requests.get(f"{live_server.url}/o/.well-known/oauth-authorization-server", timeout=10).json())
    client = OAuth2Client.from_discovery_document(
        metadata,
        authorization_server_jwks=requests.get(metadata["jwks_uri"], timeout=10).json(),
        auth=PrivateKeyJwt("bank-app", key),
        redirect_uri=f"{live_server.url}/cb",
        dpop_bound_access_tokens=True,
        testing=True,
    )
    return client


def authorize(client: OAuth2Client, device, scope: str = "openid balance") -> tuple[DPoPToken, DPoPKey]:
    """PAR (with a DPoP proof: dpop_jkt) → browser: login, TOTP, consent → code → DPoP-bound token."""
    authorization = client.authorization_request(scope=scope)
    pushed = client.pushed_authorization_request(authorization)
    answer = browser_authorizes(pushed.uri, device)
    callback = authorization.validate_callback(answer.headers["Location"])
    # token_request, not authorization_code(): requests-oauth2client 1.8.0's id_token validation
    # rebuilds a DPoPToken without its key (a TypeError); the id_token itself is tested elsewhere.
    token = client.token_request(
        {
            "grant_type": "authorization_code",
            "code": callback.code,
            "redirect_uri": callback.redirect_uri,
            "code_verifier": callback.code_verifier,
        },
        dpop_key=authorization.dpop_key,
    )
    return token, authorization.dpop_key


def proof(key: DPoPKey, htm: str, htu: str, token: str | None = None, **claims) -> str:
    body = {"jti": str(uuid.uuid4()), "htm": htm, "htu": htu, "iat": int(time.time())}
    if token is not None:
        body["ath"] = access_token_hash(token)
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"jwk": dict(key.private_key.public_jwk())}
    return str(Jwt.sign(body, key=key.private_key, alg=key.alg, typ="dpop+jwt", extra_headers=headers))


def dpop_get(url: str, token: str, proof_value: str | None) -> requests.Response:
    headers = {"Authorization": f"DPoP {token}"}
    if proof_value is not None:
        headers["DPoP"] = proof_value
    return requests.get(url, headers=headers, timeout=10)


def test_discovery_advertises_dpop(live_server):
    for path in ("openid-configuration", "oauth-authorization-server"):
        data = requests.get(f"{live_server.url}/o/.well-known/{path}", timeout=10).json()
        assert data["dpop_signing_alg_values_supported"] == ["PS256", "ES256", "EdDSA"]


def test_full_fapi_flow_with_a_dpop_bound_token(live_server, bank_app, totp_device):
    token, key = authorize(bank_app, totp_device)
    assert isinstance(token, DPoPToken) and token.token_type == "DPoP"
    # The library sends a fresh proof (htm, htu, ath) with every call.
    balance = requests.get(f"{live_server.url}/api/balance", auth=token, timeout=10)
    assert balance.status_code == 200, (balance.status_code, balance.headers.get("WWW-Authenticate"))
    assert balance.json()["account"] == "alice"
    assert bank_app.userinfo(token)["acr"] == "urn:mfa_oauth:acr:mfa"
    info = bank_app.introspect_token(token.access_token)
    assert info["cnf"] == {"jkt": key.dpop_jkt} and info["token_type"] == "DPoP"
    # The refresh token is bound too: a proof by the same key refreshes, a DPoP token again.
    refreshed = bank_app.refresh_token(token)
    assert isinstance(refreshed, DPoPToken)
    assert bank_app.introspect_token(refreshed.access_token)["cnf"] == {"jkt": key.dpop_jkt}


def test_stolen_token_without_the_key_is_refused(live_server, bank_app, totp_device):
    token, _key = authorize(bank_app, totp_device)
    for url in (f"{live_server.url}/api/balance", f"{live_server.url}/o/userinfo/"):
        # As a bearer token (RFC 9449 §7.2).
        bearer = requests.get(url, headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10)
        assert bearer.status_code == 401, url
        assert bearer.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')
        # With the thief's own key.
        thief = DPoPKey.generate(alg="ES256")
        stolen = dpop_get(url, token.access_token, proof(thief, "GET", url, token.access_token))
        assert stolen.status_code == 401
        assert 'error="invalid_dpop_proof"' in stolen.headers["WWW-Authenticate"]
        # DPoP scheme without any proof.
        assert dpop_get(url, token.access_token, None).status_code == 401


def test_proof_refusals_at_the_resource(live_server, bank_app, totp_device):
    token, key = authorize(bank_app, totp_device)
    url = f"{live_server.url}/api/balance"
    good = proof(key, "GET", url, token.access_token)
    assert dpop_get(url, token.access_token, good).status_code == 200
    cases = {
        "replayed proof": good,
        "wrong htu": proof(key, "GET", f"{live_server.url}/api/transfer", token.access_token),
        "wrong htm": proof(key, "POST", url, token.access_token),
        "no ath": proof(key, "GET", url),
        "wrong ath": proof(key, "GET", url, "another-token"),
        "old iat": proof(key, "GET", url, token.access_token, iat=int(time.time()) - 3600),
        "future iat": proof(key, "GET", url, token.access_token, iat=int(time.time()) + 3600),
        "no jti": proof(key, "GET", url, token.access_token, jti=None),
        "garbage": "not.a.proof",
        "two proofs": f"{good}, {good}",
    }
    for why, value in cases.items():
        response = dpop_get(url, token.access_token, value)
        assert response.status_code == 401, why
        assert 'error="invalid_dpop_proof"' in response.headers["WWW-Authenticate"], why
        assert "balance" not in response.json(), why
    # The query and fragment are not part of htu (RFC 9449 §4.3).
    assert dpop_get(url + "?x=1", token.access_token, proof(key, "GET", url, token.access_token)).status_code == 200


def test_scope_and_step_up_challenges_use_the_dpop_scheme(live_server, bank_app, totp_device):
    token, key = authorize(bank_app, totp_device, scope="openid balance")
    url = f"{live_server.url}/api/transfer"
    headers = {"Authorization": f"DPoP {token.access_token}", "DPoP": proof(key, "POST", url, token.access_token)}
    response = requests.post(url, headers=headers, timeout=10)
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('DPoP error="insufficient_scope"') and 'algs="PS256 ES256 EdDSA"' in challenge


def test_token_endpoint_refusals(live_server, bank_app, totp_device):
    # A code bound at PAR (dpop_jkt) is redeemed only with a proof by that key.
    authorization = bank_app.authorization_request(scope="balance")
    pushed = bank_app.pushed_authorization_request(authorization)
    answer = browser_authorizes(pushed.uri, totp_device)
    callback = authorization.validate_callback(answer.headers["Location"])
    token_url = f"{live_server.url}/o/token/"
    other = DPoPKey.generate(alg="ES256")
    with pytest.raises(InvalidGrant):
        bank_app.authorization_code(
            callback.code, redirect_uri=callback.redirect_uri, code_verifier=callback.code_verifier, dpop_key=other
        )
    # A malformed or mismatched proof: invalid_dpop_proof, never a token.
    for bad in (
        "x.y.z",
        proof(authorization.dpop_key, "GET", token_url),
        proof(other, "POST", f"{live_server.url}/o/par/"),
    ):
        response = requests.post(
            token_url,
            data={"grant_type": "authorization_code", "code": callback.code},
            headers={"DPoP": bad},
            timeout=10,
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
    token = bank_app.authorization_code(callback)  # scope without openid: no id_token (see authorize())
    assert isinstance(token, DPoPToken)
    # The refresh token without a proof, or with another key's: invalid_grant.
    body = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
    prepared = bank_app.auth(requests.Request("POST", token_url, data=body).prepare())
    response = requests.Session().send(prepared, timeout=10)  # client-authenticated, no proof
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    with pytest.raises(InvalidGrant):
        bank_app.refresh_token(token.refresh_token, dpop_key=other)


def test_par_refuses_a_dpop_jkt_that_differs_from_the_proof(live_server, bank_app):
    key = DPoPKey.generate(alg="ES256")
    authorization = bank_app.authorization_request(scope="openid", dpop_key=key)
    body = dict(authorization.args)
    body["dpop_jkt"] = DPoPKey.generate(alg="ES256").dpop_jkt
    par_url = f"{live_server.url}/o/par/"
    prepared = bank_app.auth(requests.Request("POST", par_url, data=body).prepare())
    prepared.headers["DPoP"] = proof(key, "POST", par_url)
    response = requests.Session().send(prepared, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"


def test_server_nonce(live_server, bank_app, totp_device, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "DPOP_NONCE_REQUIRED": True}
    key = DPoPKey.generate(alg="ES256")
    par_url = f"{live_server.url}/o/par/"
    # Without a nonce: use_dpop_nonce and a DPoP-Nonce to use (RFC 9449 §8).
    prepared = bank_app.auth(requests.Request("POST", par_url, data={"response_type": "code"}).prepare())
    prepared.headers["DPoP"] = proof(key, "POST", par_url)
    response = requests.Session().send(prepared, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "use_dpop_nonce"
    assert response.headers["DPoP-Nonce"]
    # The library retries with the nonce by itself, at PAR, token and resource.
    token, _key = authorize(bank_app, totp_device)
    assert requests.get(f"{live_server.url}/api/balance", auth=token, timeout=10).status_code == 200


# userinfo with a DPoP-bound token: the token, its client's policy, its user and its authentication
# (TokenLink, record: the key binding, acr/amr/auth_time) in one SELECT, which the binding check and
# DOT's validation share (mfa_oauth.oauth.validators.load_access_token).
USERINFO_BUDGET = 1


def test_dpop_userinfo_reads_the_token_once(live_server, bank_app, totp_device, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token, key = authorize(bank_app, totp_device)
    url = "http://testserver/o/userinfo/"
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(
            "/o/userinfo/",
            headers={"Authorization": f"DPoP {token.access_token}", "DPoP": proof(key, "GET", url, token.access_token)},
        )
    assert answer.status_code == 200, answer.content
    assert answer.json()["acr"] == "urn:mfa_oauth:acr:mfa"
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= USERINFO_BUDGET, statements
    print(f"DPoP userinfo: {len(statements)} SQL statements")
