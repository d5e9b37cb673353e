"""Drivers for the step-up tests.

The browser side runs on Django's test client; the relying party and the resource-server calls
are plain HTTP (``requests``) against ``live_server`` where a test asks for it, or through the
test client otherwise. id_tokens are verified with jwcrypto against the provider's JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
import time_machine
from django.test import Client
from jwcrypto import jwk, jwt

from tests.conftest import CLIENT_SECRET, PASSWORD, REDIRECT_URI, totp_for
from tests.oauth import declining_the_offer

START = datetime(2026, 11, 27, 9, 0, tzinfo=dt_timezone.utc)
SCOPE = "openid balance transfer"
KEY_SECRET = "testkey0secret0abc"


@pytest.fixture
def clock():
    """A frozen clock the test moves explicitly (never sleeps)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def security_key(user):
    from tests.stepup.keyapp.models import TestSecurityKey

    return TestSecurityKey.objects.create(user=user, name="key", confirmed=True, secret=KEY_SECRET)


@pytest.fixture
def stepup_app(make_application):
    """A client whose policy always asks for a second factor."""
    return make_application(mfa_mode="always")


# --- the relying party's half (PKCE, token endpoint, JWKS) -----------------------------------


@dataclass
class Pending:
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).decode().rstrip("=")


class Answer:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class RelyingParty:
    """An OAuth client speaking HTTP to the provider: through ``requests`` against a live server
    (``base_url``), or through a Django test client when no live server is needed."""

    def __init__(self, client_id: str, secret: str = CLIENT_SECRET, base_url: str = "", django_client=None):
        self.client_id = client_id
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.django = django_client or Client()
        self.http = requests.Session()

    # transport
    def post(self, path: str, data: dict, *, auth: bool = True, headers: dict | None = None) -> Answer:
        headers = dict(headers or {})
        if auth:
            basic = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        if self.base_url:
            r = self.http.post(self.base_url + path, data=data, headers=headers, timeout=10)
            return Answer(r.status_code, r.headers, r.content)
        r = self.django.post(path, urlencode(data), content_type="application/x-www-form-urlencoded", headers=headers)
        return Answer(r.status_code, r.headers, r.content)

    def get(self, path: str, headers: dict | None = None) -> Answer:
        if self.base_url:
            r = self.http.get(self.base_url + path, headers=headers or {}, timeout=10)
            return Answer(r.status_code, r.headers, r.content)
        r = self.django.get(path, headers=headers or {})
        return Answer(r.status_code, r.headers, r.content)

    # OAuth
    def authorize_path(self, pending: Pending, scope: str = SCOPE, **extra) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
            **{k: v for k, v in extra.items() if v is not None},
        }
        return f"/o/authorize/?{urlencode(params)}"

    def redeem(self, code: str, pending: Pending) -> dict:
        answer = self.post(
            "/o/token/",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": pending.verifier,
            },
        )
        assert answer.status == 200, answer.body
        tokens = answer.json()
        tokens["claims"] = self.verify_id_token(tokens["id_token"], pending.nonce)
        return tokens

    def refresh(self, refresh_token: str) -> dict:
        answer = self.post("/o/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token})
        assert answer.status == 200, answer.body
        return answer.json()

    def introspect(self, token: str) -> dict:
        answer = self.post("/o/introspect/", {"token": token})
        assert answer.status == 200, answer.body
        return answer.json()

    def verify_id_token(self, id_token: str, nonce: str | None) -> dict:
        config = self.get("/o/.well-known/openid-configuration").json()
        keys = jwk.JWKSet.from_json(self.get(urlparse(config["jwks_uri"]).path).body.decode())
        token = jwt.JWT(
            jwt=id_token,
            key=keys,
            algs=["RS256"],
            expected_type="JWS",
            check_claims={"aud": self.client_id, "exp": None},
        )
        claims = json.loads(token.claims)
        if nonce is not None:
            assert claims["nonce"] == nonce
        return claims


# --- the browser's half ------------------------------------------------------------------------


@dataclass
class Journey:
    """What the browser went through between the authorize request and the client's callback."""

    steps: list[str] = field(default_factory=list)
    offered: list[list[str]] = field(default_factory=list)  # method names on each challenge page
    callback: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        assert "code" in self.callback, self.callback
        return self.callback["code"]


def use_totp(device, remember: bool = False):
    def answer(browser: Client, verify_url: str, form_context):
        token = totp_for(device).now()
        data = {"device": device.persistent_id, "token": token, "action": "verify", "next": form_context["next"]}
        if remember:
            data["remember_browser"] = "1"
        return browser.post(verify_url, data)

    return answer


def use_key(key, remember: bool = False):
    def answer(browser: Client, verify_url: str, form_context):
        data = {"device": key.persistent_id, "token": key.secret, "action": "verify", "next": form_context["next"]}
        if remember:
            data["remember_browser"] = "1"
        return browser.post(verify_url, data)

    return answer


def journey(
    browser: Client,
    path: str,
    *,
    second=None,
    username: str = "alice",
    password: str = PASSWORD,
    consent: bool = True,
) -> Journey:
    """Follow the browser from ``path`` to the client's redirect URI, answering each step."""
    done = Journey()
    response = browser.get(path)
    for _ in range(20):
        if response.status_code in (301, 302, 303):
            location = response["Location"]
            if location.startswith(REDIRECT_URI):
                done.steps.append("callback")
                done.callback = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
                return done
            target = urlparse(location).path
            if target == "/accounts/login/":
                done.steps.append("login")
                response = browser.post(location, {"username": username, "password": password})
                continue
            if target == "/mfa/verify/":
                page = browser.get(location)
                assert page.status_code == 200, page.content
                done.steps.append("verify")
                done.offered.append([entry["method"].name for entry in page.context["entries"]])
                if second is None:
                    return done
                response = second(browser, location, page.context)
                continue
            response = browser.get(location)
            continue
        if response.status_code == 200 and response.context and "decline_url" in response.context:
            # The IdP's "Add a security key" offer before an unmet request's error: decline it.
            done.steps.append("offer")
            response = declining_the_offer(response)
            continue
        if response.status_code == 200 and response.context and "entries" in response.context:
            # The challenge page as the login's answer (mfa_oauth.oauth.after_login): its form posts to
            # the /mfa/verify/ URL the authorization endpoint would have redirected to.
            done.steps.append("verify")
            done.offered.append([entry["method"].name for entry in response.context["entries"]])
            if second is None:
                return done
            response = second(browser, response.context["action"], response.context)
            continue
        if response.status_code == 200 and response.context and "form" in response.context:
            form = response.context["form"]
            if "allow" in form.fields and consent:
                done.steps.append("consent")
                data = {k: v for k, v in form.initial.items() if v is not None}
                data["allow"] = "Authorize"
                response = browser.post("/o/authorize/", data)
                continue
        done.steps.append(f"stopped:{response.status_code}")
        return done
    raise AssertionError(f"too many redirects: {done.steps}")


def login(browser: Client, username: str = "alice", password: str = PASSWORD) -> None:
    response = browser.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content
