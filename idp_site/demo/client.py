"""The relying party's side of authorization code + PKCE + OpenID Connect, over plain HTTP.

It talks to the IdP only through its public endpoints (discovery, token, JWKS), exactly as a
third-party client would; it shares nothing with the provider but the browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from jwcrypto import jwk, jwt


class DemoClientError(Exception):
    pass


@dataclass
class PendingLogin:
    state: str
    nonce: str
    verifier: str
    redirect_uri: str

    @classmethod
    def new(cls, redirect_uri: str) -> PendingLogin:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48), redirect_uri)

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class ApiAnswer:
    status: int
    body: dict
    www_authenticate: str
    challenge: dict

    @property
    def step_up(self) -> dict | None:
        """The authorization parameters an RFC 9470 challenge asks the client to send, if any."""
        if self.status != 401 or self.challenge.get("error") != "insufficient_user_authentication":
            return None
        return {k: self.challenge[k] for k in ("acr_values", "max_age") if self.challenge.get(k)}


class OIDCClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self._http = requests.Session()

    def discovery(self) -> dict:
        return self._get_json(f"{self.base_url}/o/.well-known/openid-configuration")

    def authorize_url(self, authorization_endpoint: str, pending: PendingLogin, scope: str, **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": pending.redirect_uri,
            "scope": scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return f"{authorization_endpoint}?{urlencode(params)}"

    def redeem(self, code: str, pending: PendingLogin) -> dict:
        config = self.discovery()
        try:
            response = self._http.post(
                config["token_endpoint"].replace(_origin(config["token_endpoint"]), self.base_url),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier,
                },
                auth=(self.client_id, self.client_secret),
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise DemoClientError(f"token endpoint unreachable: {error}") from error
        if response.status_code != 200:
            raise DemoClientError(f"token endpoint answered {response.status_code}: {response.text[:300]}")
        tokens = response.json()
        tokens["id_token_claims"] = self.verify_id_token(tokens.get("id_token", ""), pending.nonce, config)
        return tokens

    def verify_id_token(self, id_token: str, nonce: str, config: dict) -> dict:
        if not id_token:
            raise DemoClientError("no id_token in the token response")
        jwks_url = config["jwks_uri"].replace(_origin(config["jwks_uri"]), self.base_url)
        keys = jwk.JWKSet.from_json(json.dumps(self._get_json(jwks_url)))
        try:
            token = jwt.JWT(
                jwt=id_token,
                key=keys,
                algs=["RS256"],
                expected_type="JWS",
                check_claims={"iss": config["issuer"], "aud": self.client_id, "exp": None},
            )
        except Exception as error:  # jwcrypto raises several unrelated exception types
            raise DemoClientError(f"id_token rejected: {error}") from error
        claims = json.loads(token.claims)
        if claims.get("nonce") != nonce:
            raise DemoClientError("id_token nonce does not match")
        if claims.get("iat", 0) > time.time() + 60:
            raise DemoClientError("id_token issued in the future")
        return claims

    def call_api(self, path: str, method: str, access_token: str) -> ApiAnswer:
        """Call a resource server with the access token; RFC 9470 challenges come back parsed."""
        from mfa_oauth.resource import parse_www_authenticate

        try:
            response = self._http.request(
                method,
                f"{self.base_url}/{path.lstrip('/')}",
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise DemoClientError(f"the API is unreachable: {error}") from error
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:300]}
        header = response.headers.get("WWW-Authenticate", "")
        return ApiAnswer(response.status_code, body, header, parse_www_authenticate(header))

    def _get_json(self, url: str) -> dict:
        try:
            response = self._http.get(url, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            raise DemoClientError(f"{url} unreachable: {error}") from error


def _origin(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"
