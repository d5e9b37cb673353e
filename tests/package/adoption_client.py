"""The client and the browser of tests/package/test_adoption.py, run by the test's own interpreter.

The provider is the project built from the README in a fresh venv, served by ``runserver``. The
relying party is authlib (an independent OAuth 2.0 / OIDC client; joserfc, its JOSE library,
verifies the id_token); the browser is a requests session
that fills in the pages' forms as a person would (the login page, the TOTP challenge, DOT's consent
page). Nothing here talks to the database: what the id_token says is what the provider issued.
"""

from __future__ import annotations

import secrets
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from django_otp.oath import TOTP
from joserfc import jwt
from joserfc.jwk import KeySet

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never fetched: the code is read from the Location header


class _Form(HTMLParser):
    """The fields of the form with ``form_id`` (inputs with a name; the named submit button, if any)."""

    def __init__(self, form_id: str | None):
        super().__init__()
        self.form_id, self.inside, self.found, self.action, self.fields = form_id, False, False, None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.found and (self.form_id is None or attrs.get("id") == self.form_id):
            self.inside = self.found = True
            self.action = attrs.get("action")
        elif tag == "input" and self.inside and attrs.get("name"):
            if attrs.get("type") == "submit":
                return  # the test says which button it presses
            if attrs.get("type") == "radio" and attrs["name"] in self.fields and "checked" not in attrs:
                return
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form(page: requests.Response, form_id: str | None = None) -> tuple[str, dict[str, str]]:
    parser = _Form(form_id)
    parser.feed(page.text)
    assert parser.found, (form_id, page.status_code, page.url, page.text[:2000])
    return urljoin(page.url, parser.action or page.url), parser.fields


def follow(browser: requests.Session, response: requests.Response) -> requests.Response:
    """Follow redirects inside the provider; stop at the client's redirect URI."""
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(REDIRECT_URI):
            return response
        response = browser.get(location, allow_redirects=False)
    return response


def current_totp(key_hex: str) -> str:
    totp = TOTP(bytes.fromhex(key_hex), step=30, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"


def sign_in_and_get_tokens(base: str, *, client_id: str, client_secret: str, username: str, password: str,
                           totp_key: str) -> dict:  # fmt: skip
    """Login → TOTP → consent → code → token (PKCE S256); the verified id_token claims and the steps."""
    steps: list[str] = []
    client = OAuth2Session(
        client_id, client_secret, scope="openid profile", redirect_uri=REDIRECT_URI, code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )  # fmt: skip
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = client.create_authorization_url(f"{base}/o/authorize/", code_verifier=verifier, nonce=nonce)
    browser = requests.Session()

    page = follow(browser, browser.get(url, allow_redirects=False))
    assert urlsplit(page.url).path == "/accounts/login/", page.url
    steps.append(f"login page {page.status_code}")
    action, fields = form(page, "login-form")
    fields.update(username=username, password=password)
    page = follow(browser, browser.post(action, data=fields, headers={"Referer": page.url}, allow_redirects=False))
    # The password POST answers with the challenge page itself (mfa_oauth.oauth.after_login); its form
    # posts to /mfa/verify/.
    action, fields = form(page, "mfa-verify-form")
    assert urlsplit(action).path == "/mfa/verify/", (page.url, page.text[:1500])
    steps.append(f"second-factor page {page.status_code}")
    fields.update(token=current_totp(totp_key), action="verify")
    page = follow(browser, browser.post(action, data=fields, headers={"Referer": page.url}, allow_redirects=False))
    assert urlsplit(page.url).path == "/o/authorize/", (page.url, page.text[:1500])
    steps.append(f"consent page {page.status_code}")
    action, fields = form(page, "authorizationForm")
    fields["allow"] = "Authorize"
    answer = browser.post(action, data=fields, headers={"Referer": page.url}, allow_redirects=False)
    location = answer.headers.get("Location", "")
    assert location.startswith(REDIRECT_URI), (answer.status_code, location, answer.text[:1500])
    query = parse_qs(urlsplit(location).query)
    steps.append(f"code redirect {answer.status_code} with {sorted(query)}")
    assert query["state"] == [state]

    token = client.fetch_token(f"{base}/o/token/", authorization_response=location, code_verifier=verifier, state=state)
    steps.append(f"token response with {sorted(token)}")
    metadata = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10).json()
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims  # the signature, by the JWKS
    jwt.JWTClaimsRegistry(
        leeway=5,
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        acr={"essential": True},
        amr={"essential": True},
        auth_time={"essential": True},
    ).validate(claims)
    return {
        "claims": claims,
        "iss_param": query.get("iss", [""])[0],
        "issuer": metadata["issuer"],
        "steps": steps,
    }
