"""Helpers that drive the provider the way a browser and a client app would (Django test client)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

from tests.conftest import CLIENT_SECRET, PASSWORD, REDIRECT_URI, totp_for

AUTHORIZE = "/o/authorize/"


@dataclass
class AuthorizationRequest:
    client_id: str = "rp"
    redirect_uri: str = REDIRECT_URI
    scope: str = "openid profile email"
    extra: dict = field(default_factory=dict)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).decode().rstrip("=")

    def url(self, **overrides) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **self.extra,
        }
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        return f"{AUTHORIZE}?{urlencode(params)}"


def form_fields(response) -> dict[str, str]:
    """The hidden inputs of the first form on a page."""
    content = response.content.decode()
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', content)
    }


def login(client, username: str = "alice", password: str = PASSWORD, next_url: str = "/"):
    return client.post("/accounts/login/", {"username": username, "password": password, "next": next_url})


def pass_totp(client, device, next_url: str = "/"):
    return client.post(
        "/mfa/verify/?" + urlencode({"next": next_url}),
        {"device": device.persistent_id, "token": totp_for(device).now(), "action": "verify", "next": next_url},
    )


def consent(client, request: AuthorizationRequest, url: str | None = None):
    url = url or request.url()
    page = client.get(url)
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    fields = form_fields(page)
    fields["allow"] = "Authorize"
    return client.post(url, fields)


def declining_the_offer(response):
    """Past the IdP's "Add a security key" page (an unmet request a user could meet by adding a key):
    the answer its "Not now" link gives, the client's redirect URI with the error."""
    import html
    import re

    from django.http import HttpResponse

    if response.status_code != 200:
        return response
    found = re.search(r'id="mfa-unmet-decline" href="([^"]+)"', response.content.decode())
    assert found, "no way back to the client on the offer page"
    declined = HttpResponse(status=302)
    declined["Location"] = html.unescape(found.group(1))
    return declined


def callback_params(response) -> dict[str, str]:
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert location.startswith(REDIRECT_URI) or "://" in location
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def redeem(client, code: str, request: AuthorizationRequest, client_id: str = "rp"):
    response = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.redirect_uri,
            "code_verifier": request.verifier,
            "client_id": client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    return response


def jwt_payload(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def full_authorization(client, device, request: AuthorizationRequest | None = None) -> dict:
    """login → TOTP → consent → code → tokens; returns the token response."""
    request = request or AuthorizationRequest()
    login(client, next_url=request.url())
    pass_totp(client, device, next_url=request.url())
    params = callback_params(consent(client, request))
    assert params["state"] == request.state
    response = redeem(client, params["code"], request)
    assert response.status_code == 200, response.content
    return response.json()
