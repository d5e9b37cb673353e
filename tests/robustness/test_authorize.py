"""/o/authorize/ with junk in every parameter, for anonymous, password-only and fully signed-in
browsers: never a 5xx, never a code or token in a redirect, errors sent only to a registered
redirect URI (with ``error`` and the request's ``state``), otherwise shown as a page."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from mfa_oauth.context import ACR_LEVELS
from tests.conftest import REDIRECT_URI
from tests.oauth import AuthorizationRequest

from .helpers import (
    assert_no_credentials_in,
    assert_not_5xx,
    assert_only_failures,
    assert_same_site,
    audit_counts,
    audit_delta,
    isolated,
    query_of,
    send,
    token_rows,
)
from .strategies import HTTP_METHODS, json_values, junk_text

pytestmark = pytest.mark.django_db

AUTO_REDIRECT = "https://auto.example/cb"
REGISTERED = {"rp": {REDIRECT_URI}, "auto": {AUTO_REDIRECT}}

_valid = AuthorizationRequest()


def value(valid: list[str]) -> st.SearchStrategy:
    return st.one_of(st.none(), st.sampled_from(valid), junk_text())


def _parts() -> dict[str, st.SearchStrategy]:
    return {
        "response_type": value(["code", "token", "id_token", "code id_token", "none", "CODE"]),
        "client_id": value(["rp", "auto", "RP", "rp ", "unknown"]),
        "redirect_uri": value(
            [
                REDIRECT_URI,
                AUTO_REDIRECT,
                REDIRECT_URI + "/",
                REDIRECT_URI + "?x=1",
                "http://rp.example/cb",
                "https://rp.example/cb#x",
            ]
        ),
        "scope": value(["openid", "openid profile email", "balance transfer", "openid nonexistent", "OPENID"]),
        "state": value([_valid.state, "s" * 500]),
        "nonce": value([_valid.nonce]),
        "code_challenge": value([_valid.challenge, "short", "=" * 43]),
        "code_challenge_method": value(["S256", "plain", "S512", "s256"]),
        "prompt": value(["none", "login", "consent", "select_account", "none login", "create"]),
        "max_age": st.one_of(st.none(), st.integers(-5, 10**20).map(str), junk_text()),
        "acr_values": st.one_of(
            st.none(), st.lists(st.sampled_from([*ACR_LEVELS, "junk"]), max_size=3).map(" ".join), junk_text()
        ),
        "claims": st.one_of(
            st.none(),
            json_values.map(json.dumps),
            st.sampled_from(ACR_LEVELS).map(
                lambda a: json.dumps({"id_token": {"acr": {"essential": True, "values": [a]}}})
            ),
            junk_text(),
        ),
        "request": st.one_of(st.none(), junk_text(), st.just("eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJycCJ9.")),
        "request_uri": st.one_of(st.none(), junk_text()),
        "response_mode": value(["query", "fragment", "form_post"]),
        "approval_prompt": value(["auto", "force"]),
        "id_token_hint": st.one_of(st.none(), junk_text()),
        "login_hint": st.one_of(st.none(), junk_text()),
    }


PARTS = _parts()


def authorize_params() -> st.SearchStrategy[dict]:
    """Every parameter junk, missing or one of a few meaningful values; plus, as often, a valid
    request with one to three parameters replaced or removed (junk that reaches deep)."""
    anything = st.fixed_dictionaries(PARTS)
    near_valid = st.tuples(
        st.sampled_from(["rp", "auto"]),
        st.lists(st.sampled_from(sorted(PARTS)), min_size=1, max_size=3, unique=True).flatmap(
            lambda keys: st.fixed_dictionaries({k: PARTS[k] for k in keys})
        ),
    ).map(lambda pair: {**_valid_for(pair[0]), **pair[1]})
    return st.one_of(anything, near_valid).map(lambda d: {k: v for k, v in d.items() if v is not None})


def _valid_for(client_id: str) -> dict[str, str]:
    request = AuthorizationRequest(
        client_id=client_id, redirect_uri=REDIRECT_URI if client_id == "rp" else AUTO_REDIRECT
    )
    request.state, request.nonce, request.verifier = _valid.state, _valid.nonce, _valid.verifier
    return dict(parse_qsl(urlparse(request.url()).query))


@pytest.fixture
def apps(make_application, totp_device):
    """rp: consent required; auto: skips consent and always wants a second factor (a code on GET
    once the gate is satisfied, which is what junk must never reach)."""
    return (
        make_application(),
        make_application(client_id="auto", skip_authorization=True, redirect_uris=AUTO_REDIRECT, mfa_mode="always"),
    )


def check_answer(response, params: dict) -> None:
    assert_not_5xx(response)
    location = response.get("Location", "")
    assert_no_credentials_in(location)
    if not location:
        return
    parsed = urlparse(location)
    if not parsed.scheme and not parsed.netloc:
        assert_same_site(location)
        return
    # Off-site: only an error, only to a URI registered for the client named in the request.
    target = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    assert target in REGISTERED.get(params.get("client_id"), set()), location[:300]
    query = query_of(location)
    assert "error" in query, location[:300]
    if params.get("state"):
        assert query.get("state") == [params["state"]], location[:300]


@given(params=authorize_params(), who=st.sampled_from(["anonymous", "password only", "signed in"]))
@example(params=_valid_for("rp"), who="signed in")  # the baseline: the consent page
@example(params=_valid_for("auto"), who="password only")  # the gate sends to the challenge step
def test_authorize_junk_get(apps, sessions, params, who):
    if who == "signed in" and params.get("client_id") == "auto":
        # A signed-in user at a consent-skipping client legitimately gets a code for a valid
        # request; the consent-requiring client covers the signed-in case.
        params = {**params, "client_id": "rp"}
    with isolated(sessions[who]) as client:
        before, tokens = audit_counts(), token_rows()
        response = client.get("/o/authorize/?" + urlencode(params))
        event(f"{who}: {response.status_code} {urlparse(response.get('Location', '')).path}")
        check_answer(response, params)
        assert token_rows() == tokens
        assert_only_failures(audit_delta(before), set())


@given(
    params=authorize_params(),
    who=st.sampled_from(["anonymous", "password only"]),
    allow=st.sampled_from(["Authorize", "", "yes"]),
)
def test_consent_post_without_a_second_factor_never_gets_a_code(apps, sessions, params, who, allow):
    """The consent form posted (with junk or with valid fields) by a session that has not passed
    the second factor: never a code, whatever the client."""
    with isolated(sessions[who]) as client:
        before, tokens = audit_counts(), token_rows()
        response = client.post("/o/authorize/", {**params, "allow": allow})
        check_answer(response, params)
        assert token_rows() == tokens
        assert_only_failures(audit_delta(before), set())


@given(
    params=authorize_params(),
    who=st.sampled_from(["anonymous", "password only", "signed in"]),
    method=st.sampled_from([m for m in HTTP_METHODS if m not in ("GET", "POST")]),
)
@example(params=_valid_for("auto"), who="password only", method="HEAD")  # DOT's get() issued a code here
@example(params=_valid_for("auto"), who="signed in", method="HEAD")
def test_authorize_other_methods_are_refused(apps, sessions, params, who, method):
    """HEAD, PUT, PATCH, DELETE, OPTIONS, TRACE: 405 before anything of DOT runs, whoever asks and
    whatever the parameters; even a complete sign-in at a consent-skipping client gets no code."""
    with isolated(sessions[who]) as client:
        before, tokens = audit_counts(), token_rows()
        response = send(client, method, "/o/authorize/", {**params, "allow": "Authorize"})
        event(f"{method} {who}: {response.status_code}")
        # 405; or 400 from refuse_nul, which answers a NUL in a parameter before any view runs.
        assert response.status_code in (400, 405), (method, response.status_code)
        check_answer(response, params)
        assert token_rows() == tokens
        assert_only_failures(audit_delta(before), set())
