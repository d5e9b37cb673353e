"""Discovery, JWKS, the RFC 8414 well-known URLs and the error pages under the production settings.

One gunicorn node started as production starts it (``IDP_PRODUCTION=1``: HTTPS with a throw-away CA,
``OIDC_ISS_ENDPOINT`` an https URL, ``__Host-`` cookies, collected static files, DEBUG off, PostgreSQL
and Redis), driven over HTTPS like the rest of this suite (tests/prod/stack.py starts it).
"""

from __future__ import annotations

import base64
import html
import re
import socket
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests

from tests.pages import form_action, hidden_fields
from tests.prod import stack as stack_module
from tests.services import require_postgres, require_redis, run_scoped

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REDIRECT_URI = "https://rp.example/cb"
PASSWORD = "carol-production-password-1"
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    postgres = require_postgres()
    redis_url = require_redis()
    folder = tmp_path_factory.mktemp("conformance-prod")
    running = stack_module.start(folder, postgres, redis_url, (_free_port(),), run_scoped("idp_prod_conformance"))
    try:
        running.shell(
            "from django.contrib.auth import get_user_model\n"
            "from oauth2_provider.models import get_application_model\n"
            "A = get_application_model()\n"
            "owner = get_user_model().objects.create_user('owner')\n"
            "A.objects.create(name='rp', client_id='rp', client_secret='s3cret', user=owner,"
            " client_type=A.CLIENT_CONFIDENTIAL, authorization_grant_type=A.GRANT_AUTHORIZATION_CODE,"
            f" redirect_uris={REDIRECT_URI!r}, algorithm=A.RS256_ALGORITHM)\n"
        )
        yield running
    finally:
        running.stop()


@pytest.fixture
def https(node) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(node.ca)
    return session


def _base(node) -> str:
    return node.nodes[0].url


def _authorize_url(node, **params) -> str:
    query = {
        "response_type": "code",
        "client_id": "rp",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "st",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **params,
    }
    return f"{_base(node)}/o/authorize/?{urlencode({k: v for k, v in query.items() if v is not None})}"


def test_oidc_discovery_4_3_https_issuer_and_endpoints(node, https):
    """OIDC Discovery §4.3: the issuer is the configured https URL (OIDC_ISS_ENDPOINT) and the document is
    at issuer + /.well-known/openid-configuration; §3: every endpoint on https."""
    issuer = node.env["OIDC_ISS_ENDPOINT"]
    assert issuer.startswith("https://")
    config = https.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == issuer
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "device_authorization_endpoint",
    ):
        assert config[name].startswith(_base(node) + "/o/"), name
    assert config["request_uri_parameter_supported"] is False


def test_rfc8414_3_path_inserted_metadata_in_production(node, https):
    """RFC 8414 §3 / §3.3 under production settings: the path-inserted URL answers with the configured
    issuer; the suffix-appended one too; other issuer paths are 404 (DEBUG off: no traceback)."""
    issuer = node.env["OIDC_ISS_ENDPOINT"]
    path = urlsplit(issuer).path
    for url in (
        f"{_base(node)}/.well-known/oauth-authorization-server{path}",
        f"{issuer}/.well-known/oauth-authorization-server",
    ):
        data = https.get(url, timeout=10).json()
        assert data["issuer"] == issuer and data["token_endpoint"].startswith("https://"), url
    missing = https.get(f"{_base(node)}/.well-known/oauth-authorization-server/elsewhere", timeout=10)
    assert missing.status_code == 404 and "Traceback" not in missing.text


def test_rfc6750_2_3_no_access_token_in_the_query_in_production(node, https):
    """RFC 6750 §2.3 / RFC 9700 §4.3.2 (COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT, on in production):
    userinfo refuses a token in the URI with invalid_request (RFC 6750 §3.1)."""
    response = https.get(f"{_base(node)}/o/userinfo/?access_token=anything", timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_request"')


def test_rfc7517_jwks_in_production(node, https):
    """RFC 7517 §5 / OIDC Discovery §3 jwks_uri: the production signing key's public half only."""
    keys = https.get(f"{_base(node)}/o/.well-known/jwks.json", timeout=10).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and "d" not in k for k in keys)


def test_rfc9207_2_https_iss_on_error_redirects(node, https):
    """RFC 9207 §2 under production settings: an error response (prompt=none without a session) carries
    the https issuer; an unsupported response type too, with state."""
    for params, error in (
        ({"prompt": "none"}, "login_required"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ):
        response = https.get(_authorize_url(node, **params), allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:300]
        answer = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
        assert answer["error"] == error and answer["state"] == "st"
        assert answer["iss"] == node.env["OIDC_ISS_ENDPOINT"]


def test_rfc6749_4_1_2_1_error_page_in_production(node, https):
    """RFC 6749 §4.1.2.1: an unknown client or redirect URI gets an error page (400, not a redirect, not a
    500) with the site's headers, under DEBUG off and the production template settings."""
    for params in ({"client_id": "nobody"}, {"redirect_uri": "https://attacker.example/cb"}):
        response = https.get(_authorize_url(node, **params), allow_redirects=False, timeout=10)
        assert response.status_code == 400 and "Location" not in response.headers, params
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_oidc_core_3_1_2_1_redirect_uri_required_page_in_production(node, https):
    """OIDC Core §3.1.2.1 redirect_uri REQUIRED: the refusal page renders under production settings."""
    response = https.get(_authorize_url(node, redirect_uri=None), allow_redirects=False, timeout=10)
    assert response.status_code == 400 and "redirect_uri" in html.unescape(response.text)


def test_host_prefixed_cookies_on_the_login_page(node, https):
    """RFC 6265bis §4.1.3.2 (__Host- prefix): Secure, Path=/, no Domain, on the login page an
    authorization request leads to."""
    page = https.get(_authorize_url(node), timeout=10)
    assert "/accounts/login/" in page.url
    prefixed = [cookie for cookie in https.cookies if cookie.name.startswith("__Host-")]
    assert prefixed, [cookie.name for cookie in https.cookies]
    for cookie in prefixed:
        assert cookie.secure and cookie.path == "/" and not cookie.domain_specified, cookie.name


def test_form_post_page_and_script_in_production(node, https):
    """Form Post Response Mode §2 under production settings: after login and TOTP the page posts code,
    state and the https iss to the client, and its script is served from the collected (hashed) static
    files, so the auto-submission works under the CSP there too."""
    import pyotp

    node.shell(
        "from django.contrib.auth import get_user_model\n"
        "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
        "from oauth2_provider.models import get_application_model\n"
        f"u = get_user_model().objects.create_user('carol', password={PASSWORD!r})\n"
        f"TOTPDevice.objects.create(user=u, name='phone', key={TOTP_KEY_HEX!r}, confirmed=True)\n"
        "get_application_model().objects.filter(client_id='rp').update(skip_authorization=True)\n"
    )
    origin = {"Origin": _base(node)}
    url = _authorize_url(node, response_mode="form_post")
    login = https.get(url, timeout=10)
    fields = hidden_fields(login.text) | {"username": "carol", "password": PASSWORD}
    verify = https.post(login.url, data=fields, headers=origin, timeout=10)
    # The password POST answers with the challenge page itself; its form posts to /mfa/verify/.
    action = form_action(verify.text, "mfa-verify-form")
    assert action, verify.text[:800]
    verify_url = urljoin(verify.url, action)
    assert "/mfa/verify/" in verify_url, verify_url
    code = pyotp.TOTP(base64.b32encode(bytes.fromhex(TOTP_KEY_HEX)).decode()).now()
    fields = hidden_fields(verify.text) | {"token": code, "action": "verify"}
    device = re.search(r'name="device" value="([^"]+)"', verify.text)
    if device:
        fields["device"] = device.group(1)
    page = https.post(verify_url, data=fields, headers=origin, timeout=10)
    assert page.status_code == 200 and 'id="mfa-form-post"' in page.text, (page.status_code, page.url)
    action = html.unescape(re.search(r'action="([^"]+)"', page.text).group(1))
    posted = hidden_fields(page.text)
    assert action == REDIRECT_URI and posted["state"] == "st" and posted["code"]
    assert posted["iss"] == node.env["OIDC_ISS_ENDPOINT"]
    src = re.search(r'<script src="([^"]+)"', page.text).group(1)
    assert re.search(r"form_post\.[0-9a-f]{12}\.js$", src), src  # the manifest's hashed name
    script = https.get(requests.compat.urljoin(_base(node), src), timeout=10)
    assert script.status_code == 200 and "submit()" in script.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
