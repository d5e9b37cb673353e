"""The password form with junk: never a 5xx, never a session for junk, one failed-login audit row
per real attempt, and ``next`` never leads off the site."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from hypothesis import given
from hypothesis import strategies as st

from mfa_oauth.audit.models import EventKind
from tests.conftest import PASSWORD

from .helpers import assert_not_5xx, assert_only_failures, assert_same_site, audit_counts, audit_delta, isolated
from .strategies import junk_params, junk_text

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def plainly_valid(value) -> bool:
    """A value Django's AuthenticationForm certainly hands to authenticate()."""
    return isinstance(value, str) and 0 < len(value.strip()) <= 150 and value.isascii() and value.isprintable()


@given(form=junk_params(["username", "password", "next"], valid={"username": "alice", "password": PASSWORD}))
def test_junk_login_never_logs_in(user, form):
    genuine = form.get("username") == "alice" and form.get("password") == PASSWORD
    with isolated() as client:
        before = audit_counts()
        response = client.post(LOGIN, form)
        assert_not_5xx(response)
        delta = audit_delta(before)
        if genuine:
            assert response.status_code == 302
            assert_same_site(response["Location"])
            assert delta == {EventKind.LOGIN_SUCCEEDED: 1}
            assert client.session.get(SESSION_KEY) == str(user.pk)
            return
        assert response.status_code == 200  # the form again, with its errors
        assert SESSION_KEY not in client.session
        assert_only_failures(delta, {EventKind.LOGIN_FAILED})
        # A username and password that pass the form's own checks reach authenticate(), which
        # records exactly one failure; junk refused by the form earlier records at most one.
        if plainly_valid(form.get("username")) and plainly_valid(form.get("password")):
            assert delta[EventKind.LOGIN_FAILED] == 1
        else:
            assert delta[EventKind.LOGIN_FAILED] <= 1


@given(next_url=junk_text(), in_query=st.booleans())
def test_next_junk_after_a_genuine_login_stays_on_site(user, next_url, in_query):
    with isolated() as client:
        data = {"username": "alice", "password": PASSWORD}
        path = LOGIN
        if in_query:
            response = client.get(LOGIN, {"next": next_url})
            assert_not_5xx(response)
            path = f"{LOGIN}?{response.wsgi_request.META['QUERY_STRING']}"
        else:
            data["next"] = next_url
        response = client.post(path, data)
        assert_not_5xx(response)
        assert response.status_code == 302
        assert_same_site(response["Location"])


@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/json",
            "multipart/form-data; boundary=x",
            "text/plain",
            "multipart/form-data",
        ]
    ),
)
def test_raw_bodies_at_the_login_form(user, body, content_type):
    with isolated() as client:
        before = audit_counts()
        response = client.post(LOGIN, body, content_type=content_type)
        assert_not_5xx(response)
        assert SESSION_KEY not in client.session
        assert_only_failures(audit_delta(before), {EventKind.LOGIN_FAILED})
