"""An independent relying party for the claims and subject-identifier tests: authlib's OAuth2Session
drives the code flow over HTTP against ``live_server``; id_tokens are verified with joserfc against
the provider's JWKS (issuer, audience, nonce, signature, expiry)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import CLIENT_SECRET, PASSWORD
from tests.pages import hidden_fields

TIMEOUT = 10


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


@dataclass
class Provider:
    base: str

    @property
    def metadata(self) -> dict:
        return requests.get(f"{self.base}/o/.well-known/openid-configuration", timeout=TIMEOUT).json()

    @property
    def server_metadata(self) -> dict:
        """RFC 8414 §3 metadata (where the introspection endpoint is announced, RFC 7662 §4)."""
        return requests.get(f"{self.base}/o/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()

    def keys(self) -> KeySet:
        return KeySet.import_key_set(requests.get(self.metadata["jwks_uri"], timeout=TIMEOUT).json())


@dataclass
class RelyingParty:
    """One registered client as its own code would run it (authlib), with a browser beside it."""

    provider: Provider
    client_id: str
    redirect_uri: str
    scope: str = "openid"
    browser: requests.Session = field(default_factory=requests.Session)
    nonce: str = ""
    state: str = ""
    verifier: str = ""

    def session(self, token: dict | None = None) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            CLIENT_SECRET,
            scope=self.scope,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token=token,
        )

    def authorization_url(self, **extra) -> str:
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(12)
        if "claims" in extra and not isinstance(extra["claims"], str):
            extra["claims"] = json.dumps(extra["claims"])
        url, self.state = self.session().create_authorization_url(
            self.provider.metadata["authorization_endpoint"], code_verifier=self.verifier, nonce=self.nonce, **extra
        )
        return url

    def sign_in(self, username: str = "alice", password: str = PASSWORD, **extra) -> str:
        """Authorization request → login page → consent → the callback URL (with code or error)."""
        page = self.browser.get(self.authorization_url(**extra), timeout=TIMEOUT, allow_redirects=False)
        if page.status_code == 302 and page.headers["Location"].startswith(self.redirect_uri):
            return page.headers["Location"]  # an error answered at once (or prompt=none)
        page = self.browser.get(self._absolute(page.headers["Location"]), timeout=TIMEOUT) if page.is_redirect else page
        if "/accounts/login/" in page.url:
            fields = hidden_fields(page.text)
            fields.update(username=username, password=password)
            page = self.browser.post(page.url, data=fields, timeout=TIMEOUT)
        assert 'id="authorizationForm"' in page.text, (page.url, page.status_code)
        fields = hidden_fields(page.text)
        fields["allow"] = "Authorize"
        answer = self.browser.post(page.url, data=fields, allow_redirects=False, timeout=TIMEOUT)
        assert answer.status_code == 302, answer.status_code
        return answer.headers["Location"]

    def silent(self, **extra) -> str:
        """prompt=none with the browser's existing session: the callback URL."""
        answer = self.browser.get(
            self.authorization_url(prompt="none", **extra), allow_redirects=False, timeout=TIMEOUT
        )
        assert answer.status_code == 302, answer.status_code
        return answer.headers["Location"]

    def redeem(self, callback: str) -> dict:
        assert callback.startswith(self.redirect_uri), callback
        return self.session().fetch_token(
            self.provider.metadata["token_endpoint"], authorization_response=callback, code_verifier=self.verifier
        )

    def tokens(self, **extra) -> dict:
        return self.redeem(self.sign_in(**extra))

    def refresh(self, token: dict) -> dict:
        return self.session(token).refresh_token(
            self.provider.metadata["token_endpoint"], refresh_token=token["refresh_token"]
        )

    def id_token(self, token: dict, check_nonce: bool = True) -> dict:
        metadata = self.provider.metadata
        decoded = jwt.decode(token["id_token"], self.provider.keys(), algorithms=["RS256"])
        registry = {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": self.client_id},
        }
        if check_nonce:  # a refreshed id_token answers no authorization request: no nonce
            registry["nonce"] = {"essential": True, "value": self.nonce}
        jwt.JWTClaimsRegistry(**registry, sub={"essential": True}, exp={"essential": True}).validate(decoded.claims)
        return decoded.claims

    def userinfo(self, token: dict) -> dict:
        response = self.session(token).get(self.provider.metadata["userinfo_endpoint"], timeout=TIMEOUT)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def introspect(self, access_token: str) -> dict:
        response = requests.post(
            self.provider.server_metadata["introspection_endpoint"],
            data={"token": access_token},
            auth=(self.client_id, CLIENT_SECRET),
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def _absolute(self, location: str) -> str:
        return location if "://" in location else f"{self.provider.base}{location}"
