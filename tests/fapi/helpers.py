"""Drive the FAPI pieces the way a third-party app (requests-oauth2client) and a browser would."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urljoin, urlsplit

import requests
from django.contrib.auth import get_user_model
from jwskate import Jwk
from oauth2_provider.models import get_application_model
from requests_oauth2client import ClientSecretBasic, OAuth2Client

from mfa_oauth.fapi.models import ClientSecurityProfile
from mfa_oauth.models import ClientPolicy
from tests.conftest import CLIENT_SECRET, PASSWORD, totp_for
from tests.pages import form_action, hidden_fields

__all__ = ["form_action", "hidden_fields"]

# The redirect URI of a client under the FAPI 2.0 switch: https only (FAPI 2.0 §5.3.2.2-8).
FAPI_REDIRECT = "https://bank-app.example/cb"


def consent_form(page: str, untick: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """What a browser posts for the consent form: hidden fields, the ticked account boxes (minus the
    accounts in ``untick``) and the Authorize button."""
    fields = list(hidden_fields(page).items())
    for value in re.findall(
        r'<input type="checkbox" name="authorization_details_account" value="([^"]*)" checked>', page
    ):
        value = unescape(value)
        if value.partition(":")[2] not in untick:
            fields.append(("authorization_details_account", value))
    return [*fields, ("allow", "Authorize")]


def make_client(
    base_url: str,
    client_id: str = "bank-app",
    auth_method: str = "client_secret_basic",
    jwks: dict | None = None,
    jwks_uri: str = "",
    require_par: bool = False,
):
    """A confidential client of the live server whose policy always asks for the second factor."""
    Application = get_application_model()
    owner = get_user_model().objects.get_or_create(username="owner")[0]
    app = Application.objects.create(
        name=client_id,
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{base_url}/cb",
        algorithm=Application.RS256_ALGORITHM,
    )
    ClientPolicy.objects.create(application=app, mfa_mode="always")
    ClientSecurityProfile.objects.create(
        application=app,
        token_endpoint_auth_method=auth_method,
        jwks=jwks or {},
        jwks_uri=jwks_uri,
        require_pushed_authorization_requests=require_par,
    )
    return app


def client_key(alg: str = "ES256", kid: str = "k1") -> Jwk:
    return Jwk.generate(alg=alg, kid=kid)


def public_set(*keys: Jwk) -> dict:
    return {"keys": [dict(key.public_jwk()) for key in keys]}


def browser_authorizes(url: str, device, username: str = "alice", untick: tuple[str, ...] = ()) -> requests.Response:
    """login → TOTP → consent → the authorization response (not followed), in a fresh browser."""
    browser = requests.Session()
    login_page = browser.get(url, timeout=10)
    assert "/accounts/login/" in login_page.url, (login_page.status_code, login_page.text[:500])
    fields = hidden_fields(login_page.text)
    fields.update(username=username, password=PASSWORD)
    challenge_page = browser.post(login_page.url, data=fields, timeout=10)
    # The password POST answers with the challenge page itself; its form posts to /mfa/verify/.
    action = form_action(challenge_page.text, "mfa-verify-form")
    assert urlsplit(action).path == "/mfa/verify/", (challenge_page.url, action)
    fields = hidden_fields(challenge_page.text)
    fields.update(device=device.persistent_id, token=totp_for(device).now())
    consent_page = browser.post(urljoin(challenge_page.url, action), data=fields, timeout=10)
    assert 'id="authorizationForm"' in consent_page.text, consent_page.text[:800]
    answer = browser.post(
        consent_page.url, data=consent_form(consent_page.text, untick), allow_redirects=False, timeout=10
    )
    answer.browser = browser
    return answer


def secret_client(base_url: str) -> OAuth2Client:
    """requests-oauth2client for ``bank-app`` from the server's discovery, authenticated with its
    secret (client_secret_basic); close its ``session`` when done (live-server threads)."""
    return OAuth2Client.from_discovery_endpoint(
        f"{base_url}/o/.well-known/openid-configuration",
        auth=ClientSecretBasic("bank-app", CLIENT_SECRET),
        redirect_uri=f"{base_url}/cb",
        testing=True,
    )


def fapi_application(base_url: str, key: Jwk, **profile):
    """``bank-app`` under the FAPI 2.0 switch: private_key_jwt with ``key``'s public half, an https
    redirect URI; ``profile`` sets further ClientSecurityProfile fields."""
    app = make_client(base_url, auth_method="private_key_jwt", jwks=public_set(key))
    app.redirect_uris = FAPI_REDIRECT
    app.save()
    ClientSecurityProfile.objects.filter(application=app).update(fapi2_security_profile=True, **profile)
    return app


def sign_in_again(browser: requests.Session, login_page: requests.Response, device) -> requests.Response:
    """The password on ``login_page``, then a TOTP code of ``device`` on the challenge page the password
    POST answers with (its form posts to /mfa/verify/): the page that comes next, consent as a rule.
    The code is the next step's, since the first login of the test may have used this step's."""
    fields = hidden_fields(login_page.text)
    fields.update(username="alice", password=PASSWORD)
    challenge = browser.post(login_page.url, data=fields, timeout=10)
    fields = hidden_fields(challenge.text)
    fields.update(device=device.persistent_id, token=totp_for(device).at(time.time() + 30))
    return browser.post(urljoin(challenge.url, form_action(challenge.text, "mfa-verify-form")), data=fields, timeout=10)
