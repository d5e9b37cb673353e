"""RFC 7636 (Proof Key for Code Exchange), over HTTP; S256 only and required (RFC 9700 §2.1.1)."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, query, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_rfc7636_4_4_1_missing_code_challenge(op, rp):
    """RFC 7636 §4.4.1: a server requiring PKCE answers a request without code_challenge with
    invalid_request ("code challenge required"), redirected with state and iss (RFC 9207 §2)."""
    request = AuthRequest(rp)
    response = requests.get(
        request.url(op, code_challenge=None, code_challenge_method=None), allow_redirects=False, timeout=TIMEOUT
    )
    params = query(response.headers["Location"])
    assert params["error"] == "invalid_request" and params["state"] == request.state and params["iss"] == op.issuer


def test_rfc7636_4_2_plain_is_refused(op, rp, user_agent):
    """RFC 7636 §4.2 / RFC 9700 §2.1.1: "plain" is not accepted (S256 only); invalid_request with state."""
    user_agent.code_response(AuthRequest(rp).url(op))
    request = AuthRequest(rp)
    response = user_agent.session.get(
        request.url(op, code_challenge=request.verifier, code_challenge_method="plain"),
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    params = query(response.headers["Location"])
    assert params["error"] == "invalid_request" and "code" not in params and params["state"] == request.state


def test_rfc7636_4_6_wrong_verifier_is_invalid_grant(op, rp, user_agent):
    """RFC 7636 §4.6: "If the values are not equal, an error response indicating "invalid_grant" as
    described in Section 5.2 of [RFC6749] MUST be returned"."""
    request = AuthRequest(rp)
    code = user_agent.code_response(request.url(op))["code"]
    response = token_endpoint(op, request.token_request(code, code_verifier="x" * 64), auth=rp.auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_rfc7636_4_5_missing_verifier(op, rp, user_agent):
    """RFC 7636 §4.5/§4.6: the token request of a PKCE-bound code without code_verifier is refused."""
    request = AuthRequest(rp)
    code = user_agent.code_response(request.url(op))["code"]
    response = token_endpoint(op, request.token_request(code, code_verifier=None), auth=rp.auth)
    assert response.status_code == 400 and response.json()["error"] in ("invalid_request", "invalid_grant")


def test_rfc7636_public_client(op, public_rp, user_agent):
    """RFC 7636 §1 / RFC 8252 §8.1: a public client redeems with client_id and the verifier only."""
    request = AuthRequest(public_rp)
    code = user_agent.code_response(request.url(op))["code"]
    assert token_endpoint(op, request.token_request(code, client_id="spa")).status_code == 200
