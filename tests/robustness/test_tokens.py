"""The token, introspection, userinfo and revocation endpoints with junk parameters and junk
client authentication: 4xx JSON with ``error``, no token row created, never ``active: true`` for
anything but a genuine token presented by an authenticated client."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import event, example, given
from hypothesis import strategies as st
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from tests.conftest import CLIENT_SECRET, REDIRECT_URI
from tests.oauth import AuthorizationRequest

from .helpers import assert_not_5xx, assert_only_failures, audit_counts, audit_delta, isolated, send, token_rows
from .strategies import http_methods, junk_params, junk_text

pytestmark = pytest.mark.django_db

GRANT_TYPES = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "implicit",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
]
_pkce = AuthorizationRequest()


@pytest.fixture
def genuine(user, application, make_application):
    """A live code of rp (whose verifier junk never carries), a refresh token and an access token of
    another client, and an access token of rp (the one introspection may call active)."""
    other = make_application(client_id="other")
    now = timezone.now()
    get_grant_model().objects.create(
        user=user,
        application=application,
        code="genuine-code",
        expires=now + timedelta(seconds=60),
        redirect_uri=REDIRECT_URI,
        scope="openid",
        code_challenge=_pkce.challenge,
        code_challenge_method="S256",
        nonce="n",
        claims="",
    )
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    foreign_access = AccessToken.objects.create(
        user=user,
        application=other,
        token=secrets.token_urlsafe(30),
        scope="openid",
        expires=now + timedelta(minutes=10),
    )
    RefreshToken.objects.create(user=user, application=other, token="foreign-refresh", access_token=foreign_access)
    value = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        user=user, application=application, token=value, scope="openid balance", expires=now + timedelta(minutes=10)
    )
    return {"access": value}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def as_received(text: str) -> str:
    """A header value as Django sees it: the UTF-8 bytes a client sent, decoded as latin-1 (WSGI)."""
    return text.encode("utf-8").decode("latin-1")


def authorization_headers() -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.just(basic("rp", CLIENT_SECRET)),
        st.tuples(st.sampled_from(["rp", "other", "", "rp:rp"]), junk_text(60)).map(lambda p: basic(*p)),
        st.tuples(junk_text(60), junk_text(60)).map(lambda p: basic(*p)),
        junk_text().map(lambda s: "Basic " + s),
        junk_text().map(lambda s: "Bearer " + s),
        junk_text(),
    ).map(lambda value: as_received(value) if value is not None else None)


def token_forms():
    return junk_params(
        [
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_id",
            "client_secret",
            "refresh_token",
            "scope",
            "device_code",
        ],
        valid={
            "grant_type": "authorization_code",
            "code": "genuine-code",
            "redirect_uri": REDIRECT_URI,
            "client_id": "rp",
            "client_secret": CLIENT_SECRET,
            "refresh_token": "foreign-refresh",
            "scope": "openid",
        },
    ).flatmap(lambda form: st.sampled_from(GRANT_TYPES + [form.get("grant_type")]).map(lambda g: _with_grant(form, g)))


def _with_grant(form: dict, grant_type):
    return {**form, "grant_type": grant_type} if grant_type is not None else form


VALID_CODE_FORM = {"grant_type": "authorization_code", "code": "genuine-code", "redirect_uri": REDIRECT_URI}


@given(form=token_forms(), authorization=authorization_headers())
@example(form={**VALID_CODE_FORM, "code_verifier": "x" * 43}, authorization=basic("rp", CLIENT_SECRET))
@example(form={**VALID_CODE_FORM, "code_verifier": _pkce.verifier + "x"}, authorization=basic("rp", CLIENT_SECRET))
@example(form={**VALID_CODE_FORM, "code_verifier": _pkce.verifier}, authorization=basic("rp", "wrong"))
@example(
    form={"grant_type": "refresh_token", "refresh_token": "foreign-refresh"}, authorization=basic("rp", CLIENT_SECRET)
)
def test_token_endpoint_junk(client, genuine, form, authorization):
    with isolated(client) as client:
        before, tokens = audit_counts(), token_rows()
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = client.post("/o/token/", form, headers=headers)
        event(f"{response.status_code} {response.json().get('error')}")
        assert_not_5xx(response)
        assert response.status_code in (400, 401, 403), (response.status_code, response.content[:300])
        assert "error" in response.json()
        after = token_rows()
        grants = "oauth2_provider.grant"
        assert after[grants] <= tokens[grants]  # a misused code may be burnt, never minted
        assert {k: v for k, v in after.items() if k != grants} == {k: v for k, v in tokens.items() if k != grants}
        assert_only_failures(audit_delta(before), set())


@given(
    body=st.one_of(st.binary(max_size=500), junk_text().map(str.encode)),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=zz", "text/plain"]
    ),
    authorization=authorization_headers(),
)
def test_token_endpoint_raw_bodies(client, genuine, body, content_type, authorization):
    with isolated(client) as client:
        tokens = token_rows()
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = client.post("/o/token/", body, content_type=content_type, headers=headers)
        assert_not_5xx(response)
        assert response.status_code in (400, 401, 403)
        assert token_rows() == tokens


@given(
    token=st.one_of(st.none(), st.just("GENUINE"), junk_text()),
    extra=junk_params(
        ["token_type_hint", "client_id", "client_secret"], valid={"client_id": "rp", "client_secret": CLIENT_SECRET}
    ),
    authorization=authorization_headers(),
    method=st.sampled_from(["get", "post"]),
)
@example(token="GENUINE", extra={}, authorization=basic("rp", CLIENT_SECRET), method="post")  # the baseline
@example(token="GENUINE", extra={}, authorization=basic("rp", "wrong"), method="post")
def test_introspection_junk(client, genuine, token, extra, authorization, method):
    form = dict(extra)
    if token is not None:
        form["token"] = genuine["access"] if token == "GENUINE" else token
    with isolated(client) as client:
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = getattr(client, method)("/o/introspect/", form, headers=headers)
        event(
            f"introspect {response.status_code} active={response.status_code == 200 and response.json().get('active')}"
        )
        assert_not_5xx(response)
        assert response.status_code in (200, 400, 401, 403, 405), response.status_code
        if token == "GENUINE" and authorization == basic("rp", CLIENT_SECRET):
            assert response.json()["active"] is True  # the fixtures are live: junk is what fails below
        if response.status_code == 200:
            active = response.json().get("active")
            if active:
                assert form.get("token") == genuine["access"]
                assert authorization == basic("rp", CLIENT_SECRET) or (
                    extra.get("client_id") == "rp" and extra.get("client_secret") == CLIENT_SECRET
                )


@given(
    authorization=authorization_headers(),
    method=http_methods(),
    form=junk_params(["access_token", "scope"]),
)
def test_userinfo_junk_bearer(client, genuine, authorization, method, form):
    with isolated(client) as client:
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = send(client, method, "/o/userinfo/", form, headers=headers)
        assert_not_5xx(response)
        if method == "OPTIONS":
            # Django's answer to a CORS preflight (browser clients call userinfo cross-origin): no claims.
            assert response.status_code == 200 and response.content == b"", response.content[:200]
            return
        assert response.status_code in (400, 401, 403, 405), response.status_code


@given(
    form=junk_params(
        ["token", "token_type_hint", "client_id", "client_secret"],
        valid={"token": "foreign-refresh", "client_id": "rp", "client_secret": CLIENT_SECRET},
    ),
    authorization=authorization_headers(),
)
def test_revocation_junk_revokes_nothing(client, genuine, form, authorization):
    with isolated(client) as client:
        tokens = token_rows()
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = client.post("/o/revoke_token/", form, headers=headers)
        assert_not_5xx(response)
        # rp may not revoke the other client's refresh token, and junk names no token.
        assert token_rows() == tokens
        assert get_refresh_token_model().objects.filter(token="foreign-refresh", revoked__isnull=True).exists()
