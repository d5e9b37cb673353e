"""OpenID Foundation *Form Post OP* test plan (OAuth 2.0 Form Post Response Mode), over HTTP and in
headless Chromium under the provider's real Content-Security-Policy."""

from __future__ import annotations

import html
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, Client, _register, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def form_post(response: requests.Response) -> tuple[str, dict[str, str]]:
    """The action and fields of a Form Post Response Mode page."""
    assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', response.text).group(1))
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text)
    }
    return action, fields


def test_oidcc_server_form_post(op, rp, user_agent):
    """oidcc-server (form_post): Form Post Response Mode §2 "the Authorization Response parameters are
    encoded as HTML form values that are auto-submitted in the User Agent ... using the HTTP POST method
    ... to the Client", with code, state and iss (RFC 9207 §2); the code redeems."""
    request = AuthRequest(rp)
    response = user_agent.authorize(request.url(op, response_mode="form_post"))
    action, fields = form_post(response)
    assert action == rp.redirect_uri
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == request.state and fields["iss"] == op.issuer
    assert response.headers["Cache-Control"] == "no-store"
    assert token_endpoint(op, request.token_request(fields["code"]), auth=rp.auth).status_code == 200


def test_oidcc_form_post_page_runs_under_the_csp(op, rp, user_agent):
    """Form Post Response Mode §2 auto-submission with no inline script: the provider's CSP
    (script-src 'self') would block one, so the page loads a same-origin script and offers a noscript
    button."""
    response = user_agent.authorize(AuthRequest(rp).url(op, response_mode="form_post"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts and all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert "<noscript>" in response.text and 'type="submit"' in response.text
    src = re.search(r'<script src="([^"]+)"', response.text).group(1)
    script = requests.get(requests.compat.urljoin(op.base, src), timeout=TIMEOUT)
    assert script.status_code == 200 and "submit()" in script.text


def test_oidcc_form_post_error(op, rp):
    """Form Post Response Mode §2 applies to error responses too (RFC 6749 §4.1.2.1): prompt=none without
    a session posts error, state and iss."""
    request = AuthRequest(rp)
    response = requests.get(request.url(op, prompt="none", response_mode="form_post"), timeout=TIMEOUT)
    action, fields = form_post(response)
    assert action == rp.redirect_uri
    assert fields["error"] == "login_required" and fields["state"] == request.state and fields["iss"] == op.issuer


def test_oidcc_form_post_unsupported_response_type(op, rp):
    """RFC 6749 §4.1.2.1 unsupported_response_type, delivered in the requested response mode with state
    and iss."""
    request = AuthRequest(rp)
    response = requests.get(
        request.url(op, response_type="token", response_mode="form_post"), allow_redirects=False, timeout=TIMEOUT
    )
    _action, fields = form_post(response)
    assert fields["error"] == "unsupported_response_type"
    assert fields["state"] == request.state and fields["iss"] == op.issuer


def test_oidcc_response_mode_fragment(op, rp, user_agent):
    """OAuth 2.0 Multiple Response Type Encoding Practices §2.1 response_mode=fragment: the parameters in
    the fragment, none in the query."""
    from .conftest import fragment, query

    request = AuthRequest(rp)
    location = user_agent.authorize(request.url(op, response_mode="fragment")).headers["Location"]
    params = fragment(location)
    assert params["state"] == request.state and params["iss"] == op.issuer and params["code"]
    assert query(location) == {}


def test_oidcc_unknown_response_mode_is_invalid_request(op, rp, user_agent):
    """Multiple Response Type Encoding Practices §2.1: a response mode the server does not support is not
    silently replaced (RFC 6749 §4.1.2.1 invalid_request, in the default mode)."""
    from .conftest import query

    request = AuthRequest(rp)
    response = requests.get(request.url(op, response_mode="web_message"), allow_redirects=False, timeout=TIMEOUT)
    params = query(response.headers["Location"])
    assert params["error"] == "invalid_request" and params["state"] == request.state


class _Receiver(BaseHTTPRequestHandler):
    """The client's redirect endpoint: records what the browser posts to it."""

    received: list[dict[str, str]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", "0"))
        type(self).received.append(dict(parse_qsl(self.rfile.read(length).decode())))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p id='received'>received</p>")

    def log_message(self, *args):
        pass


@pytest.mark.browser
def test_oidcc_form_post_auto_submits_in_chromium(op, page, totp_device):
    """Form Post Response Mode §2 in a real browser with the provider's CSP: after login, TOTP and consent
    the page submits itself to the client's redirect URI, no click."""
    from .conftest import Browser

    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Client("fp", f"http://127.0.0.1:{server.server_address[1]}/callback")
        _register("fp", client.redirect_uri, skip_authorization=True)
        request = AuthRequest(client)
        page.goto(request.url(op, response_mode="form_post"))
        page.fill("#id_username", "alice")
        page.fill("#id_password", Browser(op, totp_device).password)
        page.click("#login-submit")
        page.fill("#id_token", Browser(op, totp_device)._next_totp())
        page.click("#mfa-verify")
        page.wait_for_selector("#received", timeout=15000)
        assert len(_Receiver.received) == 1
        fields = _Receiver.received[0]
        assert fields["state"] == request.state and fields["iss"] == op.issuer and fields["code"]
        assert token_endpoint(op, request.token_request(fields["code"]), auth=client.auth).status_code == 200
    finally:
        server.shutdown()
