"""RFC 8252 (OAuth 2.0 for Native Apps): loopback redirects and PKCE for public clients."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, Client, _register, query, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def native(op) -> Client:
    _register("native", "http://127.0.0.1/callback", confidential=False)
    return Client("native", "http://127.0.0.1/callback", secret=None)


def test_rfc8252_7_3_loopback_any_port(op, native, user_agent):
    """RFC 8252 §7.3: "The authorization server MUST allow any port to be specified at the time of the
    request for loopback IP redirect URIs"; the code redeems with the same URI."""
    port_uri = "http://127.0.0.1:51004/callback"
    request = AuthRequest(Client("native", port_uri, secret=None))
    response = user_agent.authorize(request.url(op))
    assert response.headers["Location"].startswith(port_uri)
    code = query(response.headers["Location"])["code"]
    assert token_endpoint(op, request.token_request(code, client_id="native")).status_code == 200


def test_rfc8252_7_3_loopback_path_must_match(op, native):
    """RFC 8252 §7.3 relaxes only the port: another path is an unregistered redirect URI (RFC 9700 §2.1)."""
    request = AuthRequest(Client("native", "http://127.0.0.1:51004/other", secret=None))
    response = requests.get(request.url(op), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400 and "Location" not in response.headers


def test_rfc8252_8_1_public_native_client_needs_pkce(op, native):
    """RFC 8252 §8.1: "Public native app clients MUST implement the Proof Key for Code Exchange"; the
    server requires it (§8.1 "Authorization servers SHOULD reject authorization requests from native apps
    that don't use PKCE")."""
    request = AuthRequest(native)
    response = requests.get(
        request.url(op, code_challenge=None, code_challenge_method=None), allow_redirects=False, timeout=TIMEOUT
    )
    assert query(response.headers["Location"])["error"] == "invalid_request"
