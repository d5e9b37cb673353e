"""The RFC 8628 device endpoints and RP-initiated logout with junk: never a 5xx, never a device grant
approved or a token issued by junk, never a redirect off this site (no post-logout URI is registered)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from oauth2_provider.models import get_device_grant_model

from tests.conftest import CLIENT_SECRET

from .helpers import (
    assert_no_credentials_in,
    assert_not_5xx,
    assert_only_failures,
    assert_same_site,
    audit_counts,
    audit_delta,
    isolated,
    send,
    token_rows,
)
from .strategies import http_methods, junk_params, junk_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def tv(device_app):
    """One pending device grant of the device-flow client."""
    answer = form_post(Client(), "/o/device-authorization/", {"client_id": "tv", "client_secret": CLIENT_SECRET})
    assert answer.status_code == 200, answer.content
    return answer.json()


def form_post(client: Client, path: str, data: dict):
    # RFC 8628 §3.1: the device authorization request is a form post (DOT refuses any other type).
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded")


def approved_grants() -> int:
    return get_device_grant_model().objects.exclude(status="authorization-pending").count()


def check(response) -> None:
    assert_not_5xx(response)
    location = response.get("Location", "")
    assert_no_credentials_in(location)
    if location:
        assert_same_site(location)


@given(
    form=junk_params(["client_id", "client_secret", "scope"], valid={"client_id": "tv", "client_secret": CLIENT_SECRET})
)
def test_device_authorization_junk(tv, form):
    with isolated() as client:
        before, tokens = audit_counts(), token_rows()
        response = form_post(client, "/o/device-authorization/", form)
        assert_not_5xx(response)
        if response.status_code != 200:
            assert "error" in response.json()
        assert token_rows() == tokens
        assert_only_failures(audit_delta(before))


@given(
    who=st.sampled_from(["anonymous", "password only", "signed in"]),
    method=http_methods(),
    user_code=st.one_of(st.none(), junk_text(60)),
    action=st.one_of(st.none(), st.sampled_from(["accept", "deny"]), junk_text(20)),
)
def test_device_user_pages_junk(tv, sessions, who, method, user_code, action):
    # Junk codes never name the pending grant (its user_code is random), so nothing is approved.
    with isolated(sessions[who]) as browser:
        before, tokens, approved = audit_counts(), token_rows(), approved_grants()
        data = {k: v for k, v in {"user_code": user_code, "action": action}.items() if v is not None}
        check(send(browser, method, "/o/device/", data))
        segment = quote(user_code or "x", safe="")
        check(send(browser, method, f"/o/device-confirm/tv/{segment}", data))
        check(send(browser, method, f"/o/device-grant-status/tv/{segment}"))
        assert approved_grants() == approved and token_rows() == tokens
        assert_only_failures(audit_delta(before))


@given(
    who=st.sampled_from(["anonymous", "password only", "signed in"]),
    method=http_methods(),
    params=junk_params(
        ["id_token_hint", "post_logout_redirect_uri", "client_id", "state", "ui_locales", "allow"],
        valid={"client_id": "rp", "post_logout_redirect_uri": "https://rp.example/logged-out", "allow": "Yes"},
    ),
)
def test_rp_initiated_logout_junk(application, sessions, who, method, params):
    with isolated(sessions[who]) as browser:
        before, tokens = audit_counts(), token_rows()
        check(send(browser, method, "/o/logout/", params))
        assert token_rows() == tokens
        assert_only_failures(audit_delta(before))
