"""OpenID Foundation *RP-Initiated Logout OP* test plan (OpenID Connect RP-Initiated Logout 1.0)."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, query

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed_in(op, rp, user_agent, tokens):
    _request, body = tokens
    return body


def _logout(op, user_agent, **params) -> requests.Response:
    return user_agent.logout(**params)


def _still_signed_in(op, rp, user_agent) -> bool:
    response = user_agent.session.get(AuthRequest(rp).url(op, prompt="none"), allow_redirects=False, timeout=TIMEOUT)
    return "code" in query(response.headers["Location"])


def test_oidcc_rp_initiated_logout_discovery(op):
    """RP-Initiated Logout §2.1: end_session_endpoint "REQUIRED" in discovery, https in production."""
    assert op.config["end_session_endpoint"].startswith(op.base)


def test_oidcc_rp_initiated_logout(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout: RP-Initiated Logout §2/§3: with id_token_hint and a registered
    post_logout_redirect_uri the End-User is logged out and redirected there with state."""
    assert _still_signed_in(op, rp, user_agent)
    response = _logout(
        op,
        user_agent,
        id_token_hint=signed_in["id_token"],
        post_logout_redirect_uri=f"{op.base}/logged-out",
        state="bye",
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{op.base}/logged-out")
    assert query(response.headers["Location"])["state"] == "bye"
    assert not _still_signed_in(op, rp, user_agent)


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: RP-Initiated Logout §3 "the OP MUST NOT
    perform post-logout redirection" to an unregistered URI; an error is shown instead."""
    response = _logout(
        op, user_agent, id_token_hint=signed_in["id_token"], post_logout_redirect_uri="https://attacker.example/"
    )
    assert "attacker.example" not in response.headers.get("Location", "")
    assert response.status_code in (200, 400)


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri: exact match (RP-Initiated Logout
    §3, "MUST ... exactly match"); an added query is unregistered."""
    response = _logout(
        op, user_agent, id_token_hint=signed_in["id_token"], post_logout_redirect_uri=f"{op.base}/logged-out?x=1"
    )
    assert "logged-out" not in response.headers.get("Location", "")


def test_oidcc_rp_initiated_logout_modified_id_token_hint(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout-modified-id-token-hint: RP-Initiated Logout §4 the OP MUST validate the
    ID Token; a tampered one gets no redirect."""
    header, payload, signature = signed_in["id_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    response = _logout(op, user_agent, id_token_hint=tampered, post_logout_redirect_uri=f"{op.base}/logged-out")
    assert "logged-out" not in response.headers.get("Location", "")
    assert response.status_code < 500


def test_oidcc_rp_initiated_logout_unparseable_id_token_hint(op, rp, user_agent, signed_in):
    """RP-Initiated Logout §4: a hint whose payload is not JSON is invalid: an error page (DOT's), not a
    500, and the End-User stays signed in."""
    header, _payload, signature = signed_in["id_token"].split(".")
    response = _logout(op, user_agent, id_token_hint=f"{header}.!!!.{signature}")
    assert response.status_code == 400
    assert _still_signed_in(op, rp, user_agent)


def test_oidcc_rp_initiated_logout_no_id_token_hint(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout-no-id-token-hint: RP-Initiated Logout §2 client_id identifies the RP
    when there is no hint; the OP asks the End-User and redirects to the registered URI."""
    response = _logout(op, user_agent, client_id="rp", post_logout_redirect_uri=f"{op.base}/logged-out", state="s")
    assert response.status_code == 302 and response.headers["Location"].startswith(f"{op.base}/logged-out")
    assert not _still_signed_in(op, rp, user_agent)


def test_oidcc_rp_initiated_logout_no_params(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout-no-params: RP-Initiated Logout §2 every parameter is OPTIONAL; the OP
    still logs the End-User out (after asking) and does not redirect anywhere."""
    response = _logout(op, user_agent)
    assert response.status_code < 500
    assert not response.headers.get("Location", "").startswith("http") or op.base in response.headers["Location"]
    assert not _still_signed_in(op, rp, user_agent)


def test_oidcc_rp_initiated_logout_no_state(op, rp, user_agent, signed_in):
    """oidcc-rp-initiated-logout-no-state: state is OPTIONAL; the redirect then carries none."""
    response = _logout(
        op, user_agent, id_token_hint=signed_in["id_token"], post_logout_redirect_uri=f"{op.base}/logged-out"
    )
    assert response.status_code == 302 and "state" not in query(response.headers["Location"])


def test_oidcc_rp_initiated_logout_unknown_client(op, user_agent, signed_in):
    """RP-Initiated Logout §2 client_id: an unknown client is an error page, never a 500 or a redirect."""
    response = _logout(op, user_agent, client_id="nobody", post_logout_redirect_uri="https://attacker.example/")
    assert response.status_code in (200, 400) and "attacker" not in response.headers.get("Location", "")
