"""RFC 9207 (OAuth 2.0 Authorization Server Issuer Identification), over HTTP."""

from __future__ import annotations

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, query

pytestmark = pytest.mark.django_db(transaction=True)


def _error_response(op, auth_request: AuthRequest, session=None, **overrides) -> dict[str, str]:
    getter = session.get if session is not None else requests.get
    response = getter(auth_request.url(op, **overrides), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, (response.status_code, overrides)
    return query(response.headers["Location"])


def test_rfc9207_2_iss_in_the_success_response(op, rp, user_agent):
    """RFC 9207 §2: "Authorization servers supporting this specification MUST provide their issuer
    identifier ... in the authorization response" — §2.4: equal to the issuer of the metadata."""
    params = user_agent.code_response(AuthRequest(rp).url(op))
    assert params["iss"] == op.issuer
    metadata = requests.get(f"{op.base}/.well-known/oauth-authorization-server/o", timeout=TIMEOUT).json()
    assert params["iss"] == metadata["issuer"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "bogus"}, "unsupported_response_type"),
        ({"scope": "openid no-such-scope"}, "invalid_scope"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
        ({"request": "e30.e30."}, "request_not_supported"),
        ({"request_uri": "https://rp.example/r"}, "request_uri_not_supported"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"response_mode": "web_message"}, "invalid_request"),
    ],
)
def test_rfc9207_2_iss_in_error_responses(op, rp, overrides, error):
    """RFC 9207 §2: the iss parameter "MUST" be in every authorization response, error responses
    included ("...in the authorization response ..., including error responses")."""
    request = AuthRequest(rp)
    params = _error_response(op, request, **overrides)
    assert params["error"] == error
    assert params["iss"] == op.issuer and params["state"] == request.state


def test_rfc9207_2_iss_only_once(op, rp, user_agent):
    """RFC 9207 §2: one iss value, the server's, even if the registered redirect URI carried one."""
    from .conftest import Client, _register

    _register("issy", f"{op.base}/cb?iss=https%3A%2F%2Fevil.example")
    client = Client("issy", f"{op.base}/cb?iss=https%3A%2F%2Fevil.example")
    location = user_agent.authorize(AuthRequest(client).url(op)).headers["Location"]
    from urllib.parse import parse_qs, urlsplit

    assert parse_qs(urlsplit(location).query)["iss"] == [op.issuer]


def test_rfc9207_3_metadata(op):
    """RFC 9207 §3: authorization_response_iss_parameter_supported true in the metadata."""
    assert op.config["authorization_response_iss_parameter_supported"] is True
