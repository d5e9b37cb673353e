"""Standard claims by scope (OIDC Core §5.4) and the ``claims`` request parameter (OIDC Core §5.5).

Organised like the OpenID Foundation's Basic OP plan (oidcc-scope-*, oidcc-claims-essential) plus the
§5.5 rules it does not test. Black-box: an authlib relying party against the live server, id_tokens
verified against the JWKS (tests/conformance/claims_helpers.py)."""

from __future__ import annotations

import pytest
import requests

from mfa_oauth.sms.models import SMSDevice

from .claims_helpers import Provider, RelyingParty, query_of

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = {"street_address": "1 Rabbit Hole", "locality": "Oxford", "country": "GB"}
CONFIRMED_NUMBER = "+447700900123"


def claims_with_address_and_phone(user) -> dict:
    """A project's MFA_OAUTH["USER_CLAIMS"] hook: the default mapping plus an address and a number,
    with a phone_number_verified of its own that mfa_oauth must not believe."""
    from mfa_oauth.oauth.claims import default_user_claims

    return {
        **default_user_claims(user),
        "address": ADDRESS,
        "phone_number": "+447700900999",
        "phone_number_verified": True,
    }


@pytest.fixture
def alice(user):
    user.first_name, user.last_name = "Alice", "Liddell"
    user.save()
    return user


@pytest.fixture
def provider(live_server) -> Provider:
    return Provider(live_server.url)


@pytest.fixture
def rp(provider, make_application, alice) -> RelyingParty:
    # Second factor off: these tests are about claims (the MFA journey: tests/core/test_independent_client.py).
    redirect_uri = f"{provider.base}/cb"
    make_application(mfa_mode="off", redirect_uris=redirect_uri)
    return RelyingParty(provider, "rp", redirect_uri)


def with_hook(settings, **keys) -> None:
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, **keys}


# --- oidcc-scope-* (OIDC Core §5.4) ------------------------------------------------------------------


def test_oidcc_scope_profile(rp):
    """OIDC Core §5.4 ``profile``: name, given_name, family_name, preferred_username; no email."""
    rp.scope = "openid profile"
    token = rp.tokens()
    for claims in (rp.id_token(token), rp.userinfo(token)):
        assert claims["name"] == "Alice Liddell"
        assert (claims["given_name"], claims["family_name"], claims["preferred_username"]) == (
            "Alice",
            "Liddell",
            "alice",
        )
        assert "email" not in claims and "phone_number" not in claims


def test_oidcc_scope_email_is_not_claimed_verified_unless_the_project_says_so(rp, settings):
    """OIDC Core §5.4 ``email``; §5.1 email_verified: true only when the address was verified."""
    rp.scope = "openid email"
    token = rp.tokens()
    userinfo = rp.userinfo(token)
    assert (userinfo["email"], userinfo["email_verified"]) == ("alice@example.com", False)
    assert "name" not in userinfo and "preferred_username" not in userinfo

    with_hook(settings, EMAIL_VERIFIED=True)
    token = rp.tokens()
    assert rp.id_token(token)["email_verified"] is True
    assert rp.userinfo(token)["email_verified"] is True


def test_oidcc_scope_phone_is_verified_only_for_a_confirmed_sms_factor(rp, alice):
    """OIDC Core §5.4 ``phone``: phone_number_verified is true only for a number the user confirmed by
    typing back a code sent to it (a confirmed SMS factor); an operator-assigned number waiting for its
    first code is not released."""
    rp.scope = "openid phone"
    SMSDevice.objects.create(user=alice, name="assigned", number="+447700900555", assigned=True, confirmed=False)
    token = rp.tokens()
    userinfo = rp.userinfo(token)
    assert "phone_number" not in userinfo and "phone_number_verified" not in userinfo

    SMSDevice.objects.create(user=alice, name="mobile", number=CONFIRMED_NUMBER, confirmed=True)
    token = rp.tokens()
    for claims in (rp.id_token(token), rp.userinfo(token)):
        assert (claims["phone_number"], claims["phone_number_verified"]) == (CONFIRMED_NUMBER, True)


def test_oidcc_scope_phone_from_the_hook_is_verified_only_when_it_is_the_sms_factor(rp, alice, settings):
    """The hook's own phone_number_verified is ignored: mfa_oauth decides it from the SMS factors."""
    with_hook(settings, USER_CLAIMS="tests.conformance.test_oidc_claims.claims_with_address_and_phone")
    rp.scope = "openid phone"
    SMSDevice.objects.create(user=alice, name="mobile", number=CONFIRMED_NUMBER, confirmed=True)
    userinfo = rp.userinfo(rp.tokens())
    assert (userinfo["phone_number"], userinfo["phone_number_verified"]) == ("+447700900999", False)


def test_oidcc_scope_address(rp, settings):
    """OIDC Core §5.4 ``address`` (§5.1.1 structure, as the hook gives it); absent without the scope."""
    with_hook(settings, USER_CLAIMS="tests.conformance.test_oidc_claims.claims_with_address_and_phone")
    rp.scope = "openid address"
    assert rp.userinfo(rp.tokens())["address"] == ADDRESS
    rp.scope = "openid"
    assert "address" not in rp.userinfo(rp.tokens())


def test_oidcc_scope_all(rp, alice, settings):
    """All four scopes at once: every standard claim the hook supplies, and the authentication claims."""
    with_hook(settings, USER_CLAIMS="tests.conformance.test_oidc_claims.claims_with_address_and_phone")
    rp.scope = "openid profile email address phone"
    token = rp.tokens()
    userinfo = rp.userinfo(token)
    assert {
        "sub",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "email",
        "email_verified",
        "address",
        "phone_number",
        "phone_number_verified",
        "acr",
        "amr",
        "auth_time",
    } <= set(userinfo)
    assert userinfo["sub"] == rp.id_token(token)["sub"] == str(alice.pk)


# --- the claims parameter (OIDC Core §5.5) ---------------------------------------------------------------


def test_oidcc_claims_essential(rp):
    """oidcc-claims-essential: ``name`` requested as essential in userinfo is returned (the profile scope
    was approved); §5.5.1: when its release was not approved it is left out, and still no error."""
    rp.scope = "openid profile"
    claims = {"userinfo": {"name": {"essential": True}}}
    assert rp.userinfo(rp.tokens(claims=claims))["name"] == "Alice Liddell"

    rp.scope = "openid"
    callback = rp.sign_in(claims=claims)
    assert "code" in query_of(callback) and "error" not in query_of(callback)
    token = rp.redeem(callback)
    assert "name" not in rp.userinfo(token) and "name" not in rp.id_token(token)


def test_claims_parameter_requests_claims_in_the_id_token_and_userinfo(rp):
    """OIDC Core §5.5: claims asked for by name in either member are answered there."""
    rp.scope = "openid profile email"
    token = rp.tokens(
        claims={"id_token": {"email": None, "given_name": {"essential": True}}, "userinfo": {"name": None}}
    )
    id_token = rp.id_token(token)
    assert (id_token["email"], id_token["given_name"]) == ("alice@example.com", "Alice")
    assert rp.userinfo(token)["name"] == "Alice Liddell"


def test_claims_parameter_value_and_values(rp):
    """OIDC Core §5.5.1 ``value`` / ``values``: a claim whose value is another is left out of that
    member's answer, never returned with a value that was not asked for."""
    rp.scope = "openid profile email"
    token = rp.tokens(
        claims={
            "id_token": {"email": {"value": "someone.else@example.com"}, "given_name": {"values": ["Bob", "Alice"]}},
            "userinfo": {"family_name": {"values": ["Hatter"]}},
        }
    )
    id_token = rp.id_token(token)
    assert "email" not in id_token and id_token["given_name"] == "Alice"
    userinfo = rp.userinfo(token)
    assert "family_name" not in userinfo
    assert userinfo["email"] == "alice@example.com"  # the id_token member does not restrict userinfo


def test_the_claims_request_is_kept_with_the_grant_for_refreshes_and_userinfo(rp):
    """What the user approved at the authorization endpoint holds for every token of the code's
    family: the refreshed id_token and the refreshed access token's userinfo answer the same claims."""
    rp.scope = "openid profile email"
    token = rp.tokens(claims={"id_token": {"email": {"value": "x@example.com"}}, "userinfo": {"name": {"value": "X"}}})
    refreshed = rp.refresh(token)
    assert refreshed["access_token"] != token["access_token"]
    id_token = rp.id_token(refreshed, check_nonce=False)
    assert "email" not in id_token and id_token["given_name"] == "Alice"
    userinfo = rp.userinfo(refreshed)
    assert "name" not in userinfo and userinfo["email"] == "alice@example.com"


def test_claims_sub_value_of_the_signed_in_user_is_answered(rp):
    """OIDC Core §5.5.1: a requested ``sub`` that is the signed-in user's gets a positive response."""
    first = rp.id_token(rp.tokens())
    callback = rp.silent(claims={"id_token": {"sub": {"value": first["sub"]}}})
    assert "code" in query_of(callback)
    assert rp.id_token(rp.redeem(callback))["sub"] == first["sub"]


def test_claims_sub_value_of_another_user_gets_no_code(rp):
    """OIDC Core §5.5.1: "MUST NOT reply with an ID Token or Access Token for a different user, even if
    they have an active session": prompt=none answers login_required (with state and iss); an
    interactive request goes to the login page instead of issuing a code."""
    rp.tokens()
    callback = rp.silent(claims={"id_token": {"sub": {"value": "someone-else", "essential": True}}})
    params = query_of(callback)
    assert params["error"] == "login_required" and "code" not in params
    assert params["state"] == rp.state and params["iss"] == rp.provider.metadata["issuer"]

    url = rp.authorization_url(claims='{"id_token": {"sub": {"value": "someone-else"}}}')
    answer = rp.browser.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]


def test_claims_sub_value_lets_the_browser_sign_in_as_the_requested_user(rp, alice, django_user_model):
    """OIDC Core §5.5.1: the positive response may follow an authentication "as a result of the
    request": with alice signed in and bob's sub requested, the login page lets bob sign in, and the
    code is bob's."""
    from tests.conftest import PASSWORD

    bob = django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)
    rp.tokens()  # alice's session
    callback = rp.sign_in(username="bob", claims={"id_token": {"sub": {"value": str(bob.pk)}}})
    assert rp.id_token(rp.redeem(callback))["sub"] == str(bob.pk)


@pytest.mark.parametrize(
    "claims",
    [
        "not json",
        "[]",
        '"id_token"',
        '{"id_token": []}',
        '{"userinfo": "name"}',
        '{"userinfo": {"name": 5}}',
        '{"id_token": {"name": {"essential": "yes"}}}',
        '{"id_token": {"name": {"values": "Alice"}}}',
        '{"id_token": {"acr": {"essential": true, "values": "phr"}}}',
        "{" * 9000,  # longer than the provider keeps
        "[" * 8000,  # nested deeper than a JSON parser recurses
    ],
)
def test_malformed_claims_is_invalid_request_with_state_and_iss(rp, claims):
    """OIDC Core §5.5 / §3.1.2.6: a malformed claims parameter is answered invalid_request at the
    redirect URI, with the state (RFC 6749 §4.1.2.1) and iss (RFC 9207 §2), never a code."""
    answer = rp.browser.get(rp.authorization_url(claims=claims), allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(rp.redirect_uri)
    params = query_of(answer.headers["Location"])
    assert params["error"] == "invalid_request" and "code" not in params
    assert params["state"] == rp.state
    assert params["iss"] == rp.provider.metadata["issuer"]


def test_unknown_members_and_claims_are_ignored(rp):
    """OIDC Core §5.5: "Any members used that are not understood MUST be ignored" (also unknown claim
    names, §5.5.1)."""
    rp.scope = "openid email"
    token = rp.tokens(claims={"id_token": {"x-unknown": None}, "x-extension": {"email": None}})
    assert rp.userinfo(token)["email"] == "alice@example.com"


def test_discovery_says_truthfully_what_claims_are_supported(provider, alice, rp):
    """OIDC Discovery §3: claims_parameter_supported, claims_supported (everything released above is
    listed), subject_types_supported."""
    metadata = requests.get(f"{provider.base}/o/.well-known/openid-configuration", timeout=10).json()
    assert metadata["claims_parameter_supported"] is True
    assert set(metadata["subject_types_supported"]) == {"public", "pairwise"}
    rp.scope = "openid profile email phone"
    SMSDevice.objects.create(user=alice, name="mobile", number=CONFIRMED_NUMBER, confirmed=True)
    token = rp.tokens()
    released = set(rp.id_token(token)) | set(rp.userinfo(token))
    assert released - {"c_hash"} <= set(metadata["claims_supported"])
