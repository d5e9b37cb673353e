"""WebAuthn and the authorization policy: acr_values=phr/phrh cannot be met by TOTP, a WebAuthn
assertion reaches them, and the id_token says how (amr/acr), end to end through DOT."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import CLIENT_SECRET, REDIRECT_URI, totp_for
from tests.oauth import declining_the_offer

from .conftest import ORIGIN, password_login, post_json, register
from .soft_authenticator import SoftAuthenticator


def authorize_url(client_id: str = "rp", **extra) -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "s1",
        "nonce": "n1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return "/o/authorize/?" + urlencode(params), verifier


def id_token_claims(client, location: str, verifier: str) -> dict:
    code = parse_qs(urlparse(location).query)["code"][0]
    response = client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": "rp",
            "client_secret": CLIENT_SECRET,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    payload = response.json()["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def consent(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200 and b"authorizationForm" in page.content, page.status_code
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = client.post(url, {**form, "allow": "Authorize"})
    assert response.status_code == 302
    return response["Location"]


@pytest.fixture
def with_key(client, user, application, hardware_key):
    """alice's key, attested by a vendor root the operator installed: it can reach phrh."""
    key = hardware_key
    password_login(client)
    assert register(client, key).status_code == 201
    client.logout()
    return key


def test_phr_request_is_unmet_for_a_totp_only_user(client, user, totp_device, application):
    password_login(client)
    url, _ = authorize_url(acr_values="phr")
    offer = client.get(url)
    # Before the client gets the error, the user is offered the way to meet the request.
    assert offer.status_code == 200 and 'id="mfa-add-key"' in offer.content.decode()
    response = declining_the_offer(offer)
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert response["Location"].startswith(REDIRECT_URI)
    assert query["error"] == ["unmet_authentication_requirements"]


def test_phr_request_asks_for_webauthn_and_totp_does_not_satisfy_it(client, user, with_key):
    totp_device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_login(client)
    url, verifier = authorize_url(acr_values="phr")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/verify/")
    assert parse_qs(urlparse(response["Location"]).query)["level"] == ["2"]
    page = client.get(response["Location"]).content.decode()
    # Only the WebAuthn credential is offered at this level; its button carries the level.
    assert 'data-webauthn="authenticate"' in page and 'data-level="2"' in page
    assert totp_device.persistent_id not in page

    # A TOTP code, accepted at the plain second-factor step, does not satisfy phr.
    done = client.post("/mfa/verify/", {"device": totp_device.persistent_id, "token": totp_for(totp_device).now()})
    assert done.status_code == 303
    assert client.session["mfa_oauth.context"]["factors"][-1]["method"] == "totp"
    again = client.get(url)
    assert again["Location"].startswith("/mfa/verify/")

    options = post_json(client, "auth_options", {"level": 2}).json()
    credential = with_key.get(options, ORIGIN)
    assert post_json(client, "auth_verify", {"credential": credential, "next": url}).json()["redirect"] == url
    claims = id_token_claims(client, consent(client, url), verifier)
    assert claims["acr"] == "phrh"
    assert claims["amr"] == ["pwd", "otp", "hwk", "pop", "user", "mfa"]  # every factor this session proved
    assert not {"fpt", "face"} & set(claims["amr"])


def test_phrh_is_unmet_with_only_a_synced_passkey(client, user, application):
    password_login(client)
    assert register(client, SoftAuthenticator(backup_eligible=True)).status_code == 201
    url, _ = authorize_url(acr_values="phrh")
    response = client.get(url)
    assert parse_qs(urlparse(response["Location"]).query)["error"] == ["unmet_authentication_requirements"]


def test_phrh_asks_for_user_verification(client, user, with_key):
    password_login(client)
    url, verifier = authorize_url(acr_values="phrh")
    response = client.get(url)
    assert parse_qs(urlparse(response["Location"]).query)["level"] == ["3"]
    options = post_json(client, "auth_options", {"level": 3}).json()
    assert options["userVerification"] == "required"
    credential = with_key.get(options, ORIGIN)
    assert post_json(client, "auth_verify", {"credential": credential}).status_code == 200
    claims = id_token_claims(client, consent(client, url), verifier)
    assert claims["acr"] == "phrh"


def test_assertion_without_uv_reaches_phr_not_phrh(client, user, with_key):
    password_login(client)
    options = post_json(client, "auth_options", {"level": 2}).json()
    assert post_json(client, "auth_verify", {"credential": with_key.get(options, ORIGIN, uv=False)}).status_code == 200
    url, verifier = authorize_url(acr_values="phr")
    claims = id_token_claims(client, consent(client, url), verifier)
    assert claims["acr"] == "phr" and claims["amr"] == ["pwd", "hwk", "pop", "mfa"]
    url, _ = authorize_url(acr_values="phrh")
    assert client.get(url)["Location"].startswith("/mfa/verify/")


def test_passkey_sign_in_satisfies_an_always_mfa_client(client, user, make_application, hardware_key):
    make_application(mfa_mode="always")
    key = hardware_key
    password_login(client)
    assert register(client, key).status_code == 201
    client.logout()
    options = post_json(client, "passkey_options").json()
    assert post_json(client, "passkey_verify", {"credential": key.get(options, ORIGIN)}).status_code == 200
    url, verifier = authorize_url(acr_values="phr")
    claims = id_token_claims(client, consent(client, url), verifier)
    assert claims["amr"] == ["hwk", "pop", "user", "mfa"] and claims["acr"] == "phrh"


def test_challenge_page_with_webauthn_and_totp(client, user, with_key):
    totp_device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_login(client)
    page = client.get("/mfa/verify/?next=/").content.decode()
    # Both offered; the code form preselects the TOTP device, the key has its own button.
    assert 'data-webauthn="authenticate"' in page and 'id="mfa-verify-form"' in page
    assert f'name="device" value="{totp_device.persistent_id}"' in page
    # At phr only WebAuthn qualifies: no empty code form.
    page = client.get("/mfa/verify/?next=/&level=2").content.decode()
    assert 'data-webauthn="authenticate"' in page and 'id="mfa-verify-form"' not in page
