"""RFC 9449 §10 at the plain (non-PAR) authorization endpoint: a malformed ``dpop_jkt`` is refused with
``invalid_request`` at the client's redirect URI (RFC 6749 §4.1.2.1), never ignored; a well-formed one
goes on to the login page."""

from __future__ import annotations

import pytest
import requests
from requests_oauth2client import AuthorizationResponseError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("jkt", ["", "not-a-thumbprint", "x" * 44, "a" * 42 + "!"])
def test_malformed_dpop_jkt_is_refused_at_the_redirect_uri(live_server, oauth, jkt):
    authorization = oauth.authorization_request(scope="openid", dpop_jkt=jkt)
    with requests.Session() as browser:
        answer = browser.get(authorization.uri, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["Location"]
    assert location.startswith(f"{live_server.url}/cb?")
    with pytest.raises(AuthorizationResponseError) as refused:  # the library reads the error response
        authorization.validate_callback(location)
    assert refused.value.error == "invalid_request"
    assert "dpop_jkt" in refused.value.description and "code=" not in location


def test_wellformed_dpop_jkt_goes_on_to_login(live_server, oauth):
    authorization = oauth.authorization_request(scope="openid", dpop=True)
    assert authorization.dpop_jkt and "dpop_jkt=" in authorization.uri
    with requests.Session() as browser:
        answer = browser.get(authorization.uri, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and "/accounts/login/" in answer.headers["Location"]
