"""Units of mfa_oauth.oauth.claims and mfa_oauth.oauth.subject (the flows: tests/conformance/test_oidc_*.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from mfa_oauth.models import AuthenticationRecord, ClientPolicy, TokenLink
from mfa_oauth.oauth import claims as claims_module
from mfa_oauth.oauth.claims import InvalidClaimsRequest, parse_claims_parameter, release, user_claims
from mfa_oauth.oauth.subject import pairwise_subject, sector_identifier_of, subject_identifier
from mfa_oauth.sms.models import SMSDevice


def hook_without_supported_list(user) -> dict:
    return {"sub": "forged", "nickname": "Al", "phone_number_verified": True}


def hook_with_supported_list(user) -> dict:
    return {"nickname": "Al"}


hook_with_supported_list.supported_claims = ("nickname",)


# --- the claims parameter (OIDC Core §5.5) ---------------------------------------------------------------


def test_parse_keeps_the_two_members_and_the_three_claim_fields():
    raw = json.dumps(
        {
            "id_token": {"email": None, "acr": {"essential": True, "values": ["phr"], "x": 1}},
            "userinfo": {"name": {"value": "Alice"}},
            "x-extension": {"anything": True},
        }
    )
    assert parse_claims_parameter(raw) == {
        "id_token": {"email": None, "acr": {"essential": True, "values": ["phr"]}},
        "userinfo": {"name": {"value": "Alice"}},
    }


@pytest.mark.parametrize("raw", [None, "", "null", {}])
def test_no_claims_requested(raw):
    assert parse_claims_parameter(raw) == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "JSON object"),
        ("[1]", "JSON object"),
        ('{"id_token": null}', "claims.id_token must be a JSON object"),
        ('{"userinfo": {"name": true}}', "claims.userinfo.name must be null or a JSON object"),
        ('{"userinfo": {"name": {"essential": 1}}}', "essential must be true or false"),
        ('{"userinfo": {"name": {"values": {}}}}', "values must be a JSON array"),
        ("[" * 5000, "JSON object"),
        (" " * 9000, "too long"),
    ],
)
def test_malformed_claims_parameters(raw, message):
    with pytest.raises(InvalidClaimsRequest, match=message):
        parse_claims_parameter(raw)


def test_release_is_bounded_by_the_approved_scopes_and_narrowed_by_value():
    candidates = {"sub": "1", "email": "a@example.com", "name": "Alice", "given_name": "Alice", "acr": "x"}
    scope_map = {"sub": "openid", "email": "email", "name": "profile", "given_name": "profile", "acr": "openid"}
    requested = {"name": {"essential": True}, "given_name": {"values": ["Bob"]}, "acr": {"value": "other"}}
    released = release(candidates, scopes=["openid", "profile"], claim_scope=scope_map, requested=requested)
    # email: its scope was not approved; given_name: another value was asked for; acr is the gate's
    # business (mfa_oauth.policy), never filtered here.
    assert released == {"sub": "1", "name": "Alice", "acr": "x"}
    assert release(candidates, scopes=[], claim_scope=None, requested=None) == candidates  # DOT's None: all


# --- the user's claims (OIDC Core §5.1, §5.4) --------------------------------------------------------------


@pytest.mark.django_db
def test_the_hook_cannot_forge_sub_or_phone_verification(user, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "USER_CLAIMS": f"{__name__}.hook_without_supported_list"}
    assert user_claims(user, ["openid", "profile", "phone"]) == {"nickname": "Al"}


@pytest.mark.django_db
def test_sms_devices_are_read_only_for_the_phone_scope(user, django_assert_num_queries):
    SMSDevice.objects.create(user=user, name="m", number="+447700900123", confirmed=True)
    with django_assert_num_queries(0):
        assert "phone_number" not in user_claims(user, ["openid", "email"])
    with django_assert_num_queries(1):
        claims = user_claims(user, ["openid", "phone"])
    assert (claims["phone_number"], claims["phone_number_verified"]) == ("+447700900123", True)


@pytest.mark.django_db
def test_email_verified_through_a_function(user, settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "EMAIL_VERIFIED": f"{__name__}.verified_at_example_com"}
    assert user_claims(user)["email_verified"] is True
    user.email = "alice@elsewhere.example"
    assert user_claims(user)["email_verified"] is False


def verified_at_example_com(user) -> bool:
    return user.email.endswith("@example.com")


def test_claims_supported_follows_the_hook(settings):
    default = claims_module.discovery_claims_metadata()["claims_supported"]
    assert {"email", "email_verified", "phone_number", "phone_number_verified", "acr", "sub"} <= set(default)
    assert "address" not in default  # the default mapping never supplies one
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "USER_CLAIMS": f"{__name__}.hook_with_supported_list"}
    listed = claims_module.discovery_claims_metadata()["claims_supported"]
    assert "nickname" in listed and "email" not in listed
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "USER_CLAIMS": f"{__name__}.hook_without_supported_list"}
    assert "address" in claims_module.discovery_claims_metadata()["claims_supported"]  # may supply any


# --- subjects (OIDC Core §8) -----------------------------------------------------------------------------


def test_pairwise_subject_is_keyed_and_per_sector(settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "PAIRWISE_SUBJECT_KEY": "k" * 32}
    sub = pairwise_subject("rp.example", 7)
    assert sub == pairwise_subject("rp.example", 7) and len(sub) == 43
    assert sub not in {pairwise_subject("other.example", 7), pairwise_subject("rp.example", 8)}
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "PAIRWISE_SUBJECT_KEY": "j" * 32}
    assert pairwise_subject("rp.example", 7) != sub  # the key is part of it: never change it


def test_without_a_key_the_pairwise_subject_depends_on_secret_key(settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "PAIRWISE_SUBJECT_KEY": ""}
    first = pairwise_subject("rp.example", 7)
    settings.SECRET_KEY = settings.SECRET_KEY + "-rotated"
    assert pairwise_subject("rp.example", 7) != first  # docs/claims.md: set PAIRWISE_SUBJECT_KEY


@pytest.mark.django_db
def test_sector_identifier_rules(make_application):
    one_host = make_application(redirect_uris="https://RP.example/cb https://rp.example/other")
    assert sector_identifier_of(one_host) == "rp.example"
    assert sector_identifier_of(one_host, "https://sector.example/s.json") == "sector.example"
    two_hosts = make_application(client_id="two", redirect_uris="https://b.example/cb https://a.example/cb")
    assert sector_identifier_of(two_hosts) == "a.example b.example"  # deterministic, whatever the order
    device = make_application(client_id="tv", redirect_uris="")
    assert sector_identifier_of(device) == "client:tv"


@pytest.mark.django_db
def test_subject_is_public_without_a_policy_and_pairwise_with_one(make_application, user):
    public = make_application()
    assert subject_identifier(user, public) == str(user.pk)
    pairwise = make_application(client_id="pw", subject_type="pairwise")
    assert subject_identifier(user, pairwise) == pairwise_subject("rp.example", user.pk)
    assert ClientPolicy.objects.get(application=pairwise).subject_type == "pairwise"


@pytest.mark.django_db
def test_userinfo_of_a_pairwise_client_costs_no_extra_statement(client, make_application, user):
    """The client's policy is read with the access token (one statement), for either subject type."""
    counts = {}
    for client_id, policy in (("pub", {}), ("pw", {"subject_type": "pairwise"})):
        app = make_application(client_id=client_id, mfa_mode="off", **policy)
        token = get_access_token_model().objects.create(
            user=user, application=app, token=f"t-{client_id}", scope="openid", expires=timezone.now() + timedelta(60)
        )
        record = AuthenticationRecord.objects.create(user=user, auth_time=timezone.now(), acr="a", amr=["pwd"])
        TokenLink.objects.create(access_token=token, record=record)
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer t-{client_id}")
        assert answer.status_code == 200
        counts[client_id] = (len(queries), answer.json()["sub"])
    assert counts["pub"][0] == counts["pw"][0]
    assert counts["pub"][1] == str(user.pk) != counts["pw"][1]


@pytest.mark.django_db
def test_userinfo_with_a_token_for_no_end_user_is_invalid_token(client, application):
    """OIDC Core §5.3.3 / RFC 6750 §3.1: a client_credentials token granted "openid" names no user."""
    get_access_token_model().objects.create(
        user=None, application=application, token="cc-token", scope="openid", expires=timezone.now() + timedelta(60)
    )
    answer = client.get("/o/userinfo/", HTTP_AUTHORIZATION="Bearer cc-token")
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer["WWW-Authenticate"]


@pytest.mark.django_db
def test_dots_request_agnostic_additional_claims_still_work(user, application):
    """DOT's documented other form, ``get_additional_claims(self)`` with callables, in a subclass; the
    subject stays mfa_oauth's even if a subclass returns one."""
    from types import SimpleNamespace

    from mfa_oauth.oauth.validators import MFAOAuth2Validator

    class ProjectValidator(MFAOAuth2Validator):
        def get_additional_claims(self):
            return {"nickname": lambda request: request.user.username.upper(), "sub": "forged"}

    request = SimpleNamespace(user=user, client=application, scopes=["openid", "profile"], claims=None)
    assert ProjectValidator().get_userinfo_claims(request) == {"nickname": "ALICE", "sub": str(user.pk)}


# --- system checks mfa_oauth.E090-E092 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"PAIRWISE_SUBJECT_KEY": "short"}, "mfa_oauth.E090"),
        ({"PAIRWISE_SUBJECT_KEY": 12345}, "mfa_oauth.E090"),
        ({"USER_CLAIMS": "no.such.module.claims"}, "mfa_oauth.E091"),
        ({"EMAIL_VERIFIED": "yes"}, "mfa_oauth.E092"),
    ],
)
def test_bad_claims_settings_are_system_check_errors(settings, overrides, check_id):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, **overrides}
    assert check_id in {m.id for m in run_checks()}


def test_default_claims_settings_pass_the_checks():
    assert not {m.id for m in run_checks()} & {"mfa_oauth.E090", "mfa_oauth.E091", "mfa_oauth.E092"}
