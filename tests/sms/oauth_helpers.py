"""The OAuth side of the end-to-end tests: PKCE authorize URL, code for tokens, id_token check."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

from jwcrypto import jwk, jwt

from tests.conftest import CLIENT_SECRET, REDIRECT_URI


def authorize_url(client_id: str) -> tuple[str, str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    nonce = secrets.token_urlsafe(12)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "st-1",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"/o/authorize/?{query}", verifier, nonce


def code_from_redirect(location: str) -> str:
    assert location.startswith(REDIRECT_URI), location
    params = parse_qs(urlparse(location).query)
    assert params.get("state") == ["st-1"], params
    return params["code"][0]


def redeem(client, application, code: str, verifier: str, nonce: str) -> dict:
    """Exchange the code and return the id_token's verified claims."""
    response = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": application.client_id,
            "client_secret": CLIENT_SECRET,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    id_token = response.json()["id_token"]
    keys = jwk.JWKSet.from_json(client.get("/o/.well-known/jwks.json").content.decode())
    claims = json.loads(jwt.JWT(jwt=id_token, key=keys, algs=["RS256"]).claims)
    assert claims["aud"] == application.client_id and claims["nonce"] == nonce
    return claims
