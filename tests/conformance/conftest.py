"""Shared fixtures of the conformance suite: the live provider, its clients and a user_agent.

Everything here talks HTTP to ``live_server`` (pytest-django's real server thread), as a relying
party and a user agent would: no Django test client, no view called directly. The user agent
(:class:`Browser`) is ``requests`` filling the login, TOTP and consent forms the way a person
would; the relying parties are ``requests`` for raw protocol checks and, in
``test_independent_clients.py``, authlib and requests-oauth2client with their own validation.

Modules of other plans add fixtures here; keep them generic (``op``, ``rp``, ``public_rp``,
``user_agent``, ``AuthRequest``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import get_application_model

from tests.conftest import CLIENT_SECRET, PASSWORD, totp_for
from tests.pages import form_action, hidden_fields

TIMEOUT = 10
# The clients' redirect URIs live on the same host as the provider (no second server needed); the
# user_agent stops there.
CLIENT_PATHS = ("/cb", "/spa-cb", "/logged-out")


@dataclass
class Provider:
    """The OpenID Provider under test, as a relying party sees it: its discovery document."""

    base: str
    config: dict

    @property
    def issuer(self) -> str:
        return self.config["issuer"]

    def keys(self) -> KeySet:
        return KeySet.import_key_set(requests.get(self.config["jwks_uri"], timeout=TIMEOUT).json())

    def verify_id_token(self, id_token: str, audience: str, nonce: str | None = None) -> dict:
        """OIDC Core §3.1.3.7: signature (JWKS), iss, aud, exp, iat, and nonce when sent."""
        decoded = jwt.decode(id_token, self.keys(), algorithms=["RS256"])
        rules = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "sub": {"essential": True},
        }
        if nonce is not None:
            rules["nonce"] = {"essential": True, "value": nonce}
        jwt.JWTClaimsRegistry(**rules).validate(decoded.claims)
        return decoded.claims


@dataclass
class Client:
    client_id: str
    redirect_uri: str
    secret: str | None = CLIENT_SECRET

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.client_id, self.secret) if self.secret else None


@dataclass
class AuthRequest:
    """An authorization request (OIDC Core §3.1.2.1) with PKCE S256 (RFC 7636 §4)."""

    client: Client
    scope: str = "openid"
    extra: dict = field(default_factory=dict)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).decode().rstrip("=")

    def params(self, **overrides) -> dict:
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **self.extra,
            **overrides,
        }
        return {k: v for k, v in params.items() if v is not None}

    def url(self, op: Provider, **overrides) -> str:
        return f"{op.config['authorization_endpoint']}?{urlencode(self.params(**overrides))}"

    def token_request(self, code: str, **overrides) -> dict:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uri,
            "code_verifier": self.verifier,
            **overrides,
        }
        return {k: v for k, v in data.items() if v is not None}


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def fragment(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).fragment, keep_blank_values=True))


class Browser:
    """A user agent: follows the provider's redirects and fills its forms, stops at the client."""

    def __init__(self, op: Provider, device, username: str = "alice", password: str = PASSWORD):
        self.op = op
        self.device = device
        self.username = username
        self.password = password
        self.session = requests.Session()
        self._last_step = 0

    def _next_totp(self) -> str:
        """A TOTP code the device has not accepted yet (django-otp refuses a code's time step twice,
        RFC 6238 §5.2; it accepts one step ahead, its default tolerance)."""
        totp = totp_for(self.device)
        now = int(time.time())
        step = max(now // 30, self._last_step + 1)
        if step > now // 30 + 1:
            time.sleep((step - 1) * 30 - now + 0.5)
        self._last_step = step
        return totp.at(step * 30)

    def _at_provider(self, url: str) -> bool:
        return url.startswith(self.op.base) and not urlsplit(url).path.startswith(CLIENT_PATHS)

    def authorize(self, url: str, approve: bool = True, max_steps: int = 12) -> requests.Response:
        """Drive the provider from ``url`` until it answers the client: a redirect (not followed)
        or a page that is not one of the provider's steps (an error page, a form_post page)."""
        response = self.session.get(url, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(max_steps):
            if response.is_redirect:
                location = requests.compat.urljoin(response.url, response.headers["Location"])
                if not self._at_provider(location):
                    return response
                response = self.session.get(location, allow_redirects=False, timeout=TIMEOUT)
                continue
            page = response.text
            fields = hidden_fields(page)
            target = response.url
            if 'id="login-form"' in page:
                fields.update(username=self.username, password=self.password)
            elif 'id="mfa-verify-form"' in page and 'name="token"' in page:
                # The challenge: at /mfa/verify/, or as the password POST's answer (its form posts there).
                target = requests.compat.urljoin(response.url, form_action(page, "mfa-verify-form") or response.url)
                fields.update(device=self.device.persistent_id, token=self._next_totp())
                fields.setdefault("action", "verify")
            elif 'id="authorizationForm"' in page:
                if approve:
                    fields["allow"] = "Authorize"
            else:
                return response
            response = self.session.post(target, data=fields, allow_redirects=False, timeout=TIMEOUT)
        raise AssertionError(f"the provider kept the user_agent busy: {response.status_code} {response.url}")

    def logout(self, **params) -> requests.Response:
        """RP-Initiated Logout §2: to end_session_endpoint, confirming if the provider asks (§3)."""
        response = self.session.get(
            self.op.config["end_session_endpoint"], params=params, allow_redirects=False, timeout=TIMEOUT
        )
        if response.status_code == 200 and 'name="allow"' in response.text:
            fields = hidden_fields(response.text)
            fields["allow"] = "Yes"
            response = self.session.post(response.url, data=fields, allow_redirects=False, timeout=TIMEOUT)
        return response

    def code_response(self, url: str) -> dict[str, str]:
        """The query parameters of the authorization response redirect."""
        response = self.authorize(url)
        assert response.is_redirect, (response.status_code, response.url, response.text[:300])
        return query(response.headers["Location"])


@pytest.fixture
def op(live_server, db) -> Provider:
    config = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=TIMEOUT).json()
    return Provider(base=live_server.url, config=config)


def _register(client_id: str, redirect_uris: str, confidential: bool = True, **fields):
    Application = get_application_model()
    owner = get_user_model().objects.get_or_create(username="owner")[0]
    return Application.objects.create(
        name=client_id,
        client_id=client_id,
        client_secret=CLIENT_SECRET if confidential else "",
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uris,
        algorithm=Application.RS256_ALGORITHM,
        **fields,
    )


@pytest.fixture
def rp(op) -> Client:
    """A confidential client (client_secret_basic / client_secret_post) with two redirect URIs."""
    redirect_uri = f"{op.base}/cb"
    _register(
        "rp",
        f"{redirect_uri} {op.base}/cb2?tenant=a",
        post_logout_redirect_uris=f"{op.base}/logged-out",
    )
    return Client("rp", redirect_uri)


@pytest.fixture
def public_rp(op) -> Client:
    """A public client (token_endpoint_auth_method "none", PKCE) with one redirect URI."""
    redirect_uri = f"{op.base}/spa-cb"
    _register("spa", redirect_uri, confidential=False)
    return Client("spa", redirect_uri, secret=None)


@pytest.fixture
def user_agent(op, totp_device) -> Browser:
    return Browser(op, totp_device)


@pytest.fixture
def tokens(op, rp, user_agent):
    """A complete code flow for ``rp``: (request, token response JSON)."""
    request = AuthRequest(rp, scope="openid profile email")
    params = user_agent.code_response(request.url(op))
    response = requests.post(
        op.config["token_endpoint"], data=request.token_request(params["code"]), auth=rp.auth, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    return request, response.json()


def token_endpoint(op: Provider, data: dict, auth=None) -> requests.Response:
    return requests.post(op.config["token_endpoint"], data=data, auth=auth, timeout=TIMEOUT)
