"""id_tokens signed with PS256, ES256 and EdDSA (FAPI 2.0 Security Profile §5.4.1), verified by independent
clients against the live server's JWKS: requests-oauth2client (signature by kid, alg, at_hash) and
authlib's JOSE library joserfc with authlib's OIDC hash (``create_half_hash``)."""

from __future__ import annotations

import pytest
import requests
from authlib.oidc.core.util import create_half_hash
from django.core.cache import caches
from django.core.exceptions import ValidationError
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from jwskate import Jwt
from oauth2_provider.models import get_access_token_model
from requests_oauth2client import ClientSecretBasic, OAuth2Client

from mfa_oauth.fapi.models import ClientSecurityProfile
from mfa_oauth.oauth import hints, signing
from tests.conftest import CLIENT_SECRET
from tests.fapi.helpers import browser_authorizes, client_key, make_client
from tests.fapi.test_fapi2_profile import code_via_par, fapi_client, redeem

pytestmark = pytest.mark.django_db(transaction=True)
FAPI_ALGS = ("PS256", "ES256", "EdDSA")


@pytest.fixture(autouse=True)
def _fresh_replay_cache():
    caches["default"].clear()
    yield


def server_jwks(base: str) -> dict:
    return requests.get(f"{base}/o/.well-known/jwks.json", timeout=10).json()


def oidc_client(base: str, alg: str) -> OAuth2Client:
    metadata = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10).json()
    return OAuth2Client.from_discovery_document(
        metadata,
        authorization_server_jwks=server_jwks(base),
        auth=ClientSecretBasic("bank-app", CLIENT_SECRET),
        redirect_uri=f"{base}/cb",
        id_token_signed_response_alg=alg,
        testing=True,
    )


def verify_with_joserfc(id_token: str, jwks: dict, alg: str) -> jose_jwt.Token:
    return jose_jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[alg])


def test_5_4_1_jwks_publishes_every_key_with_kid_alg_and_use(live_server):
    keys = server_jwks(live_server.url)["keys"]
    assert sorted(key["alg"] for key in keys) == sorted(["RS256", *FAPI_ALGS])
    assert all(key["use"] == "sig" and key["kid"] for key in keys)
    assert len({key["kid"] for key in keys}) == len(keys)
    # Public members only: no private exponent or private key (RFC 7518 §6.2.2.1, §6.3.2, RFC 8037 §2).
    assert not any(member in key for key in keys for member in ("d", "p", "q", "dp", "dq", "qi"))
    by_alg = {key["alg"]: key for key in keys}
    assert (by_alg["ES256"]["kty"], by_alg["ES256"]["crv"]) == ("EC", "P-256")
    assert (by_alg["EdDSA"]["kty"], by_alg["EdDSA"]["crv"]) == ("OKP", "Ed25519")
    assert by_alg["PS256"]["kty"] == "RSA"


def test_discovery_lists_the_algorithms_the_site_signs_with(live_server):
    for path in ("/o/.well-known/openid-configuration", "/.well-known/openid-configuration/o"):
        data = requests.get(f"{live_server.url}{path}", timeout=10).json()
        supported = data["id_token_signing_alg_values_supported"]
        assert supported[0] == "RS256"  # OIDC Discovery §3: RS256 MUST be included
        assert set(FAPI_ALGS) <= set(supported)


@pytest.mark.parametrize("alg", FAPI_ALGS)
def test_5_4_1_id_token_signed_with_the_clients_algorithm(live_server, user, totp_device, alg):
    app = make_client(live_server.url)
    ClientSecurityProfile.objects.filter(application=app).update(id_token_signed_response_alg=alg)
    client = oidc_client(live_server.url, alg)
    authorization = client.authorization_request(scope="openid")
    answer = browser_authorizes(authorization.uri, totp_device)
    # requests-oauth2client verifies the id_token: key by kid from the JWKS, alg, iss, aud, nonce, at_hash.
    token = client.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    id_token = token.id_token
    assert id_token.alg == alg and id_token.kid == f"test-{alg.lower()}"
    assert id_token.get_claim("at_hash")
    # A second independent verifier: joserfc checks the signature, authlib's hash the at_hash.
    decoded = verify_with_joserfc(str(id_token), server_jwks(live_server.url), alg)
    assert decoded.header["alg"] == alg
    assert decoded.claims["at_hash"] == create_half_hash(token.access_token, alg).decode()
    assert decoded.claims["iss"] == f"{live_server.url}/o" and decoded.claims["aud"] == "bank-app"


def test_a_client_without_a_choice_keeps_rs256(live_server, user, totp_device):
    make_client(live_server.url)
    client = oidc_client(live_server.url, "RS256")
    authorization = client.authorization_request(scope="openid")
    answer = browser_authorizes(authorization.uri, totp_device)
    token = client.authorization_code(authorization.validate_callback(answer.headers["Location"]))
    assert token.id_token.alg == "RS256"
    rsa = next(key for key in server_jwks(live_server.url)["keys"] if key["alg"] == "RS256")
    assert token.id_token.kid == rsa["kid"]  # DOT's kid: the key's thumbprint


def test_5_4_1_id_token_signed_with_fapi_algorithm(live_server, fapi_app, fapi_key, totp_device):
    # The client chose nothing (and its DOT algorithm is RS256): the switch signs with the site's first
    # FAPI key, here ES256 (tests/settings.py lists ES256, PS256, EdDSA).
    client = fapi_client(live_server.url, fapi_key)
    authorization, callback = code_via_par(client, totp_device, scope="openid balance")
    token = redeem(client, authorization, callback)
    decoded = verify_with_joserfc(str(token.id_token), server_jwks(live_server.url), "ES256")
    assert decoded.header["alg"] in FAPI_ALGS and decoded.header["kid"] == "test-es256"
    assert decoded.claims["at_hash"] == create_half_hash(token.access_token, "ES256").decode()


def test_5_4_1_fapi_client_with_eddsa_gets_sha512_at_hash(live_server, fapi_app, fapi_key, totp_device):
    ClientSecurityProfile.objects.filter(application=fapi_app).update(id_token_signed_response_alg="EdDSA")
    client = fapi_client(live_server.url, fapi_key)
    authorization, callback = code_via_par(client, totp_device, scope="openid balance")
    token = redeem(client, authorization, callback)
    decoded = verify_with_joserfc(str(token.id_token), server_jwks(live_server.url), "EdDSA")
    # OIDC Core §3.1.3.6 with Ed25519's hash, SHA-512, as authlib and requests-oauth2client compute it.
    assert decoded.claims["at_hash"] == create_half_hash(token.access_token, "EdDSA").decode()
    assert decoded.claims["at_hash"] == signing.half_hash(token.access_token, "EdDSA")
    assert len(decoded.claims["at_hash"]) == 43  # 32 bytes: half of a SHA-512 digest


def test_5_4_1_fapi_profile_refuses_rs256_and_a_site_without_fapi_keys(fapi_app, settings):
    profile = ClientSecurityProfile.objects.get(application=fapi_app)
    profile.id_token_signed_response_alg = "RS256"
    with pytest.raises(ValidationError, match="5.4.1"):
        profile.full_clean()
    profile.id_token_signed_response_alg = ""
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ID_TOKEN_SIGNING_KEYS": []}
    with pytest.raises(ValidationError, match="no key for any"):
        profile.full_clean()


@pytest.mark.parametrize("alg", FAPI_ALGS)
def test_id_token_hint_signed_with_any_site_key_names_its_user(live_server, user, totp_device, alg, rf):
    app = make_client(live_server.url)
    ClientSecurityProfile.objects.filter(application=app).update(id_token_signed_response_alg=alg)
    client = oidc_client(live_server.url, alg)
    authorization = client.authorization_request(scope="openid")
    answer = browser_authorizes(authorization.uri, totp_device)
    id_token = str(client.authorization_code(authorization.validate_callback(answer.headers["Location"])).id_token)
    request = rf.get("/o/authorize/", HTTP_HOST=live_server.url.split("://")[1])
    assert hints.hinted_user_id(request, id_token) == user.pk
    # A token signed by another key under one of our kids, or with a broken signature, is no ID Token of ours.
    header, payload, signature = id_token.split(".")
    forged = str(Jwt.sign({"sub": "x", "aud": "bank-app"}, key=client_key("ES256", kid="test-es256"), alg="ES256"))
    with pytest.raises(hints.HintError):
        hints.hinted_user_id(request, forged)
    with pytest.raises(hints.HintError):
        hints.hinted_user_id(request, f"{header}.{payload}.{signature[:-4]}AAAA")
    # prompt=none at the authorization endpoint: the hint names the signed-in user (OIDC Core §3.1.2.1),
    # so the answer is a code (or consent_required), never invalid_request or login_required.
    silent = answer.browser.get(
        client.authorization_request(scope="openid", prompt="none", id_token_hint=id_token).uri,
        allow_redirects=False,
        timeout=10,
    )
    location = silent.headers["Location"]
    assert "code=" in location or "error=consent_required" in location, location
    forged_silent = answer.browser.get(
        client.authorization_request(scope="openid", prompt="none", id_token_hint=forged).uri,
        allow_redirects=False,
        timeout=10,
    )
    assert "error=invalid_request" in forged_silent.headers["Location"]
    # RP-Initiated Logout accepts the hint too (DOT's view, our _get_key_for_token).
    logout = answer.browser.get(
        f"{live_server.url}/o/logout/", params={"id_token_hint": id_token, "client_id": "bank-app"}, timeout=10
    )
    assert logout.status_code == 200, logout.text[:300]
    refused = answer.browser.get(
        f"{live_server.url}/o/logout/", params={"id_token_hint": forged, "client_id": "bank-app"}, timeout=10
    )
    assert refused.status_code == 400


def test_admin_refuses_an_algorithm_the_site_has_no_key_for(application, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "ID_TOKEN_SIGNING_KEYS": []}
    profile = ClientSecurityProfile(application=application, id_token_signed_response_alg="ES256")
    with pytest.raises(ValidationError) as refused:
        profile.full_clean()
    assert "no signing key for ES256" in str(refused.value.message_dict["id_token_signed_response_alg"])
    assert not ClientSecurityProfile.objects.exists()


def test_a_client_whose_key_went_away_gets_an_oauth_error_not_a_500(live_server, user, totp_device, settings):
    app = make_client(live_server.url)
    ClientSecurityProfile.objects.filter(application=app).update(id_token_signed_response_alg="EdDSA")
    client = oidc_client(live_server.url, "EdDSA")
    authorization = client.authorization_request(scope="openid")
    answer = browser_authorizes(authorization.uri, totp_device)
    callback = authorization.validate_callback(answer.headers["Location"])
    # The operator removes the EdDSA key after the client was registered.
    settings.MFA_OAUTH = {
        **settings.MFA_OAUTH,
        "ID_TOKEN_SIGNING_KEYS": [k for k in settings.MFA_OAUTH["ID_TOKEN_SIGNING_KEYS"] if k["alg"] != "EdDSA"],
    }
    response = requests.post(
        f"{live_server.url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": callback.code,
            "redirect_uri": callback.redirect_uri,
            "code_verifier": callback.code_verifier,
        },
        auth=("bank-app", CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "unauthorized_client"
    assert "EdDSA" in response.json()["error_description"]
    assert not get_access_token_model().objects.exists()


@pytest.mark.parametrize("alg", [*FAPI_ALGS, "RS256"])
def test_the_hash_of_each_algorithm_is_the_one_authlib_verifies(alg):
    # c_hash (OIDC Core §3.3.2.11) uses the same function; this server issues no code with an id_token
    # (response_type=code only), so only at_hash reaches a client.
    value = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
    assert signing.half_hash(value, alg) == create_half_hash(value, alg).decode()


def admin_post_data(page) -> dict:
    """What the browser posts back for the application's admin page as rendered (its inlines too)."""
    forms = [page.context["adminform"].form]
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def test_the_admin_page_shows_the_error_for_an_algorithm_without_a_key(client, application, settings):
    from django.contrib.auth import get_user_model

    from tests.conftest import pass_second_factor

    staff = get_user_model().objects.create_user("op", "op@example.com", "pw", is_staff=True, is_superuser=True)
    pass_second_factor(client, staff)
    url = f"/admin/oauth2_provider/application/{application.pk}/change/"
    page = client.get(url)
    assert 'name="mfa_security-0-id_token_signed_response_alg"' in page.content.decode()
    data = admin_post_data(page)
    data["mfa_security-0-id_token_signed_response_alg"] = "EdDSA"
    every_key = settings.MFA_OAUTH
    settings.MFA_OAUTH = {
        **every_key,
        "ID_TOKEN_SIGNING_KEYS": [k for k in every_key["ID_TOKEN_SIGNING_KEYS"] if k["alg"] != "EdDSA"],
    }
    answer = client.post(url, data)
    assert answer.status_code == 200  # the page again, with the error; nothing saved
    assert "The site has no signing key for EdDSA" in answer.content.decode()
    assert not ClientSecurityProfile.objects.filter(application=application).exists()
    # With the key back, the same form saves.
    settings.MFA_OAUTH = every_key
    assert client.post(url, data).status_code == 302
    assert ClientSecurityProfile.objects.get(application=application).id_token_signed_response_alg == "EdDSA"


@pytest.mark.parametrize("alg", FAPI_ALGS)
def test_a_hint_signed_by_a_site_key_must_name_a_client_here_in_aud(application, alg):
    """DOT's rule for id_token_hint and RP-Initiated Logout (``_get_key_for_token``): the key is looked
    up only for a token whose aud is a client of this server; the site keys keep that rule."""
    from jwcrypto import jwt as jwcrypto_jwt

    from mfa_oauth.oauth.validators import MFAOAuth2Validator

    site_key = signing.signing_key(alg)

    def signed(aud) -> str:
        token = jwcrypto_jwt.JWT(header={"alg": alg, "kid": site_key.kid}, claims={"sub": "1", "aud": aud})
        token.make_signed_token(site_key.jwk)
        return token.serialize()

    validator = MFAOAuth2Validator()
    assert validator._get_key_for_token(signed(application.client_id)) is not None
    assert validator._get_key_for_token(signed("no-such-client")) is None
    assert validator._get_key_for_token(signed(["no-such-client", "nor-this"])) is None
    unnamed = jwcrypto_jwt.JWT(header={"alg": alg, "kid": site_key.kid}, claims={"sub": "1"})
    unnamed.make_signed_token(site_key.jwk)
    assert validator._get_key_for_token(unnamed.serialize()) is None
