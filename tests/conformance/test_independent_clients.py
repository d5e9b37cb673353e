"""A complete code flow, refresh, userinfo and logout through two independent client libraries, each
with its own validation on: authlib (OAuth2Session, OIDC Core §3.1.3.7 CodeIDToken rules) and
requests-oauth2client (state, RFC 9207 iss, PKCE, id_token signature/iss/aud/nonce/exp)."""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey
from authlib.jose import jwt as authlib_jwt
from authlib.oidc.core import CodeIDToken
from requests_oauth2client import OAuth2Client
from requests_oauth2client.exceptions import InvalidGrant

from tests.conftest import CLIENT_SECRET

from .conftest import TIMEOUT, AuthRequest

pytestmark = pytest.mark.django_db(transaction=True)


def _logout(op, user_agent, id_token: str) -> requests.Response:
    """RP-Initiated Logout §2: the RP sends the browser to end_session_endpoint with its id_token_hint."""
    response = user_agent.logout(id_token_hint=id_token, post_logout_redirect_uri=f"{op.base}/logged-out", state="bye")
    assert response.status_code == 302 and response.headers["Location"].startswith(f"{op.base}/logged-out")
    return response


def _signed_out(op, rp, user_agent) -> bool:
    response = user_agent.session.get(AuthRequest(rp).url(op, prompt="none"), allow_redirects=False, timeout=TIMEOUT)
    return "error=login_required" in response.headers["Location"]


def test_authlib_code_flow_refresh_userinfo_logout(op, rp, user_agent):
    """OIDC Core §3.1 (code flow), §12 (refresh), §5.3 (userinfo) and RP-Initiated Logout through authlib."""
    session = OAuth2Session(
        "rp", CLIENT_SECRET, scope="openid profile email", redirect_uri=rp.redirect_uri, code_challenge_method="S256"
    )
    verifier = "v" * 20 + AuthRequest(rp).verifier
    nonce = AuthRequest(rp).nonce
    url, state = session.create_authorization_url(
        op.config["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    answer = user_agent.authorize(url)
    token = session.fetch_token(
        op.config["token_endpoint"], authorization_response=answer.headers["Location"], code_verifier=verifier
    )
    keys = JsonWebKey.import_key_set(requests.get(op.config["jwks_uri"], timeout=TIMEOUT).json())

    def validated(id_token: str, expected_nonce: str | None) -> dict:
        claims = authlib_jwt.decode(
            id_token,
            keys,
            claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "values": [op.issuer]}},
            claims_params={"nonce": expected_nonce, "client_id": "rp", "access_token": token["access_token"]},
        )
        claims.validate()
        return dict(claims)

    claims = validated(token["id_token"], nonce)
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa" and set(claims["amr"]) == {"pwd", "otp", "mfa"}
    assert f"state={state}" in answer.headers["Location"]

    userinfo = session.get(op.config["userinfo_endpoint"], timeout=TIMEOUT)
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == claims["sub"]

    refreshed = session.refresh_token(op.config["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    again = authlib_jwt.decode(
        refreshed["id_token"],
        keys,
        claims_options={
            "iss": {"essential": True, "values": [op.issuer]},
            "aud": {"essential": True, "values": ["rp"]},
        },
    )
    again.validate()
    assert (again["sub"], again["auth_time"], again["acr"]) == (claims["sub"], claims["auth_time"], claims["acr"])
    assert session.get(op.config["userinfo_endpoint"], timeout=TIMEOUT).status_code == 200

    _logout(op, user_agent, refreshed["id_token"])
    assert _signed_out(op, rp, user_agent)
    assert session.get(op.config["userinfo_endpoint"], timeout=TIMEOUT).status_code == 401


def test_requests_oauth2client_code_flow_refresh_userinfo_logout(op, rp, user_agent):
    """The same journey through requests-oauth2client, whose validate_callback checks state and the
    RFC 9207 iss (from the discovery's authorization_response_iss_parameter_supported) and whose
    authorization_code() validates the id_token (signature from jwks_uri, iss, aud, nonce, exp)."""
    client = OAuth2Client.from_discovery_endpoint(
        f"{op.issuer}/.well-known/openid-configuration",
        issuer=op.issuer,
        client_id="rp",
        client_secret=CLIENT_SECRET,
        redirect_uri=rp.redirect_uri,
        testing=True,  # only waives its https-only rule for the issuer URL (the live server is plain http)
    )
    assert client.authorization_response_iss_parameter_supported is True
    request = client.authorization_request(scope="openid profile email")
    assert request.code_challenge_method == "S256"
    answer = user_agent.authorize(str(request.uri))
    response = request.validate_callback(answer.headers["Location"])
    token = client.authorization_code(response, validate=True)
    claims = token.id_token.claims
    assert claims["iss"] == op.issuer and claims["aud"] == "rp" and claims["nonce"] == request.nonce
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa"

    userinfo = client.userinfo(token)
    assert userinfo["sub"] == claims["sub"]

    refreshed = client.refresh_token(token)
    assert refreshed.access_token != token.access_token and refreshed.refresh_token
    assert client.userinfo(refreshed)["sub"] == claims["sub"]
    with pytest.raises(InvalidGrant):
        client.refresh_token(token.refresh_token)  # rotated out (RFC 9700 §4.14.2)

    _logout(op, user_agent, str(refreshed.id_token or token.id_token))
    assert _signed_out(op, rp, user_agent)


def test_requests_oauth2client_rejects_a_foreign_issuer(op, rp, user_agent):
    """RFC 9207 §2.4 from the client side: with iss in every response, a client configured for another
    issuer refuses this provider's response (the mix-up defence the parameter exists for)."""
    from requests_oauth2client.authorization_request import MismatchingIssuer

    client = OAuth2Client(
        token_endpoint=op.config["token_endpoint"],
        authorization_endpoint=op.config["authorization_endpoint"],
        issuer="https://other-as.example",
        authorization_response_iss_parameter_supported=True,
        client_id="rp",
        client_secret=CLIENT_SECRET,
        redirect_uri=rp.redirect_uri,
        testing=True,
    )
    request = client.authorization_request(scope="openid")
    answer = user_agent.authorize(str(request.uri))
    with pytest.raises(MismatchingIssuer):
        request.validate_callback(answer.headers["Location"])
