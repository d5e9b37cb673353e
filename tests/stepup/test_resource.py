"""mfa_oauth.resource: requirements, the RFC 6750 / RFC 9470 answers, local and remote validation, DRF."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.http import JsonResponse
from django.test import RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from mfa_oauth.context import ACR_MFA, ACR_PASSWORD, ACR_PHISHING_RESISTANT
from mfa_oauth.models import AuthenticationRecord, TokenLink
from mfa_oauth.resource import (
    IntrospectionValidator,
    LocalValidator,
    Requirement,
    TokenInfo,
    evaluate_requirements,
    parse_www_authenticate,
    require_authentication,
    step_up_challenge,
)
from tests.conftest import CLIENT_SECRET

from .conftest import START

T0 = int(START.timestamp())


def make_token(user, application, acr: str, amr: list[str], auth_time: int, scope: str = "balance transfer") -> str:
    value = secrets.token_urlsafe(30)
    token = get_access_token_model().objects.create(
        user=user,
        application=application,
        token=value,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=600),
    )
    record = AuthenticationRecord.objects.create(
        user=user, acr=acr, amr=amr, auth_time=datetime.fromtimestamp(auth_time, tz=dt_timezone.utc)
    )
    TokenLink.objects.create(access_token=token, record=record)
    return value


# --- pure logic ---------------------------------------------------------------------------------


def test_requirements_refuse_unknown_acr_and_bad_max_age():
    with pytest.raises(ValueError):
        Requirement(acr="urn:example:unknown")
    with pytest.raises(ValueError):
        Requirement(max_age=-1)
    with pytest.raises(ValueError):
        Requirement(max_age="300")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("acr", "age", "expected"),
    [
        (ACR_PHISHING_RESISTANT, 10_000, None),
        (ACR_MFA, 299, None),
        (ACR_MFA, 300, None),
        (ACR_MFA, 301, ("phr", "urn:mfa_oauth:acr:mfa")),
        (ACR_PASSWORD, 1, ("phr", "urn:mfa_oauth:acr:mfa")),
        (None, 1, ("phr", "urn:mfa_oauth:acr:mfa")),  # no acr claim: the weakest
        ("urn:example:other", 1, ("phr", "urn:mfa_oauth:acr:mfa")),
    ],
)
def test_transfer_alternatives(acr, age, expected):
    alternatives = [Requirement(acr=ACR_PHISHING_RESISTANT), Requirement(acr=ACR_MFA, max_age=300)]
    info = TokenInfo(active=True, acr=acr, auth_time=T0)
    step_up = evaluate_requirements(info, alternatives, now=T0 + age)
    assert (step_up.acr_values if step_up else None) == expected
    if step_up:
        assert step_up.max_age == 300


def test_headers_are_exactly_rfc_9470():
    assert step_up_challenge(["phr"], None, "A different authentication level is required") == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A different authentication level is required", acr_values="phr"'
    )
    only_age = evaluate_requirements(
        TokenInfo(active=True, acr=ACR_MFA, auth_time=T0), [Requirement(max_age=5)], T0 + 6
    )
    assert only_age.header() == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="More recent authentication is required", max_age="5"'
    )
    # quoted-string escaping and a round trip through the client-side parser
    header = step_up_challenge(['a"b\\c'], 7, 'say "hi"')
    assert parse_www_authenticate(header) == {
        "error": "insufficient_user_authentication",
        "error_description": 'say "hi"',
        "acr_values": 'a"b\\c',
        "max_age": "7",
    }
    assert parse_www_authenticate("Basic realm=x") == {}
    assert parse_www_authenticate("Bearer error=invalid_token, max_age=5")["max_age"] == "5"


def test_token_info_from_a_hostile_introspection_answer():
    info = TokenInfo.from_introspection({"active": True, "acr": 5, "amr": "pwd", "auth_time": "yesterday"})
    assert (info.acr, info.amr, info.auth_time) == (None, (), None)
    assert TokenInfo.from_introspection({"active": "true"}).active is False


# --- the decorator --------------------------------------------------------------------------------


@require_authentication(acr=ACR_MFA, scopes=["balance"])
def balance_view(request):
    return JsonResponse({"acr": request.token_info.acr})


def call(view, authorization: str | None):
    request = RequestFactory().get("/x", **({"HTTP_AUTHORIZATION": authorization} if authorization else {}))
    return view(request)


@pytest.fixture
def tokens(user, application, clock):
    return {
        "pwd": make_token(user, application, ACR_PASSWORD, ["pwd"], T0),
        "mfa": make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"], T0),
        "no_scope": make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"], T0, scope="openid"),
    }


def test_a_good_token_reaches_the_view(tokens):
    response = call(balance_view, f"Bearer {tokens['mfa']}")
    assert response.status_code == 200
    assert json.loads(response.content) == {"acr": ACR_MFA}


def test_a_weak_token_gets_the_step_up_challenge(tokens):
    response = call(balance_view, f"Bearer {tokens['pwd']}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A different authentication level is required", acr_values="urn:mfa_oauth:acr:mfa"'
    )


@pytest.mark.parametrize(
    ("authorization", "status", "header"),
    [
        (None, 401, "Bearer"),
        ("Bearer", 400, 'Bearer error="invalid_request"'),
        ("Bearer a b", 400, 'Bearer error="invalid_request"'),
        ("Basic YWxpY2U6cHc=", 400, 'Bearer error="invalid_request"'),
        ("Bearer not-a-token", 401, 'Bearer error="invalid_token"'),
        ("Bearer " + "x" * 5000, 401, 'Bearer error="invalid_token"'),
        ("Bearer \u00e9\u00e9", 401, 'Bearer error="invalid_token"'),
    ],
)
def test_malformed_or_unknown_tokens(tokens, authorization, status, header):
    response = call(balance_view, authorization)
    assert response.status_code == status
    assert response["WWW-Authenticate"].startswith(header)


def test_an_expired_token_is_invalid_token(tokens, clock):
    clock.shift(601)
    response = call(balance_view, f"Bearer {tokens['mfa']}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_a_revoked_token_is_invalid_token(tokens):
    get_access_token_model().objects.all().delete()
    assert call(balance_view, f"Bearer {tokens['mfa']}").status_code == 401


def test_a_missing_scope_is_403_insufficient_scope(tokens):
    response = call(balance_view, f"Bearer {tokens['no_scope']}")
    assert response.status_code == 403
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", error_description="The access token lacks a required scope", '
        'scope="balance"'
    )


# --- remote validation through the introspection endpoint ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_introspection_validator_against_the_live_endpoint(live_server, user, application, clock):
    mfa = make_token(user, application, ACR_MFA, ["pwd", "otp", "mfa"], T0)
    pwd = make_token(user, application, ACR_PASSWORD, ["pwd"], T0)
    remote = IntrospectionValidator(f"{live_server.url}/o/introspect/", application.client_id, CLIENT_SECRET)
    info = remote.inspect(mfa)
    assert info == LocalValidator().inspect(mfa)  # same answer, locally or remotely
    assert (info.acr, info.amr, info.auth_time) == (ACR_MFA, ("pwd", "otp", "mfa"), T0)

    view = require_authentication(acr=ACR_MFA, validator=remote)(lambda request: JsonResponse({}))
    assert call(view, f"Bearer {mfa}").status_code == 200
    refused = call(view, f"Bearer {pwd}")
    assert refused.status_code == 401
    assert 'acr_values="urn:mfa_oauth:acr:mfa"' in refused["WWW-Authenticate"]
    assert call(view, "Bearer unknown").status_code == 401

    wrong_secret = IntrospectionValidator(f"{live_server.url}/o/introspect/", application.client_id, "wrong")
    view = require_authentication(acr=ACR_MFA, validator=wrong_secret)(lambda request: JsonResponse({}))
    assert call(view, f"Bearer {mfa}").status_code == 503


def test_an_unreachable_authorization_server_is_503_not_invalid_token(tokens):
    remote = IntrospectionValidator("http://127.0.0.1:9/o/introspect/", "x", "y", timeout=0.5)
    view = require_authentication(acr=ACR_MFA, validator=remote)(lambda request: JsonResponse({}))
    response = call(view, f"Bearer {tokens['mfa']}")
    assert response.status_code == 503
    assert json.loads(response.content)["error"] == "temporarily_unavailable"


def test_the_introspection_url_setting_selects_remote_validation(settings, tokens):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "RESOURCE_SERVER_INTROSPECTION_URL": "http://127.0.0.1:9/introspect"}
    assert call(balance_view, f"Bearer {tokens['mfa']}").status_code == 503


# --- Django REST framework ---------------------------------------------------------------------------


def test_drf_permission(tokens):
    pytest.importorskip("rest_framework")
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from mfa_oauth.resource.drf import step_up_permission

    class Transfer(APIView):
        authentication_classes = []
        permission_classes = [
            step_up_permission(any_of=[Requirement(acr=ACR_PHISHING_RESISTANT), Requirement(acr=ACR_MFA, max_age=300)])
        ]

        def post(self, request):
            return Response({"acr": request.token_info.acr})

    view = Transfer.as_view()
    factory = APIRequestFactory()
    ok = view(factory.post("/t", HTTP_AUTHORIZATION=f"Bearer {tokens['mfa']}"))
    assert ok.status_code == 200 and ok.data == {"acr": ACR_MFA}

    weak = view(factory.post("/t", HTTP_AUTHORIZATION=f"Bearer {tokens['pwd']}"))
    weak.render()
    assert weak.status_code == 401
    assert weak["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A different authentication level is required", '
        'acr_values="phr urn:mfa_oauth:acr:mfa", max_age="300"'
    )
    assert weak.data["error"] == "insufficient_user_authentication"

    bad = view(factory.post("/t", HTTP_AUTHORIZATION="Bearer nope"))
    assert bad.status_code == 401 and bad["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    missing = view(factory.post("/t"))
    # RFC 6750 §3.1 (no error code) and RFC 9449 §7.1 (the DPoP scheme offered too).
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == 'Bearer, DPoP algs="PS256 ES256 EdDSA"'
