"""OpenID Foundation *Basic OP* test plan (OpenID Connect Core 1.0, code flow), black-box over HTTP.

Each test is named after the plan module it follows. The modules of the plan about the claims
parameter and standard claims by scope live in the claims modules of this folder.
"""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import TIMEOUT, AuthRequest, Browser, query, token_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_oidcc_server(op, rp, user_agent):
    """oidcc-server: OIDC Core §3.1.2.5 a code and state in the redirect, §3.1.3.3 the token response
    (token_type Bearer, Cache-Control no-store), §3.1.3.7 an id_token that validates."""
    request = AuthRequest(rp)
    params = user_agent.code_response(request.url(op))
    assert params["state"] == request.state and params["code"]
    response = token_endpoint(op, request.token_request(params["code"]), auth=rp.auth)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    claims = op.verify_id_token(body["id_token"], "rp", nonce=request.nonce)
    assert claims["acr"] and claims["amr"] and claims["auth_time"] <= time.time()


def test_oidcc_response_type_missing(op, rp, user_agent):
    """oidcc-response-type-missing: OIDC Core §3.1.2.6 / RFC 6749 §4.1.2.1: without response_type the
    error goes to the redirect URI (invalid_request or unsupported_response_type) with state."""
    request = AuthRequest(rp)
    response = user_agent.session.get(request.url(op, response_type=None), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    params = query(response.headers["Location"])
    assert params["error"] in ("invalid_request", "unsupported_response_type")
    assert params["state"] == request.state and params["iss"] == op.issuer


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(op, rp, user_agent):
    """oidcc-ensure-request-without-nonce-succeeds-for-code-flow: OIDC Core §3.1.2.1 nonce is OPTIONAL
    in the code flow; the id_token then carries none."""
    request = AuthRequest(rp)
    params = user_agent.code_response(request.url(op, nonce=None))
    body = token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).json()
    assert "nonce" not in op.verify_id_token(body["id_token"], "rp")


def test_oidcc_ensure_other_scope_order_succeeds(op, rp, user_agent):
    """oidcc-ensure-other-scope-order-succeeds: RFC 6749 §3.3 scope is a set; order does not matter."""
    request = AuthRequest(rp, scope="email openid")
    params = user_agent.code_response(request.url(op))
    body = token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).json()
    assert set(body["scope"].split()) == {"openid", "email"}


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(op, rp, user_agent):
    """oidcc-ensure-request-with-unknown-parameter-succeeds: RFC 6749 §3.1 "The authorization server MUST
    ignore unrecognized request parameters"."""
    params = user_agent.code_response(AuthRequest(rp).url(op, extra_parameter="ignored"))
    assert params["code"]


def test_oidcc_display_page_and_popup(op, rp, user_agent):
    """oidcc-display-page / oidcc-display-popup: OIDC Core §3.1.2.1 display is OPTIONAL; page and popup
    succeed."""
    for display in ("page", "popup"):
        assert user_agent.code_response(AuthRequest(rp).url(op, display=display))["code"]


def test_oidcc_ensure_request_with_acr_values_succeeds(op, rp, user_agent):
    """oidcc-ensure-request-with-acr-values-succeeds: OIDC Core §3.1.2.1 acr_values is a voluntary request."""
    request = AuthRequest(rp)
    params = user_agent.code_response(request.url(op, acr_values="urn:mfa_oauth:acr:mfa"))
    body = token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).json()
    assert op.verify_id_token(body["id_token"], "rp")["acr"] == "urn:mfa_oauth:acr:mfa"


def test_oidcc_prompt_none_not_logged_in(op, rp):
    """oidcc-prompt-none-not-logged-in: OIDC Core §3.1.2.6 login_required, redirected with state (and iss,
    RFC 9207 §2)."""
    request = AuthRequest(rp)
    response = requests.get(request.url(op, prompt="none"), allow_redirects=False, timeout=TIMEOUT)
    params = query(response.headers["Location"])
    assert params["error"] == "login_required" and params["state"] == request.state
    assert params["iss"] == op.issuer


def test_oidcc_prompt_none_logged_in(op, rp, user_agent):
    """oidcc-prompt-none-logged-in: OIDC Core §3.1.2.1 prompt=none with a signed-in, consenting user
    issues a code without any page."""
    first = AuthRequest(rp)
    code = user_agent.code_response(first.url(op))["code"]
    assert token_endpoint(op, first.token_request(code), auth=rp.auth).status_code == 200
    response = user_agent.session.get(AuthRequest(rp).url(op, prompt="none"), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302 and query(response.headers["Location"]).get("code")


def test_oidcc_prompt_login(op, rp, user_agent):
    """oidcc-prompt-login: OIDC Core §3.1.2.1 prompt=login "The Authorization Server SHOULD prompt the
    End-User for reauthentication"; the new auth_time is later than the first."""
    first = AuthRequest(rp)
    body = token_endpoint(op, first.token_request(user_agent.code_response(first.url(op))["code"]), auth=rp.auth)
    before = op.verify_id_token(body.json()["id_token"], "rp")["auth_time"]
    time.sleep(1.1)
    second = AuthRequest(rp)
    response = user_agent.session.get(second.url(op, prompt="login"), allow_redirects=False, timeout=TIMEOUT)
    assert "/accounts/login/" in response.headers["Location"]
    params = user_agent.code_response(second.url(op, prompt="login"))
    body = token_endpoint(op, second.token_request(params["code"]), auth=rp.auth).json()
    assert op.verify_id_token(body["id_token"], "rp")["auth_time"] > before


def test_oidcc_max_age_1(op, rp, user_agent):
    """oidcc-max-age-1: OIDC Core §3.1.2.1 max_age: an older authentication is redone, auth_time is
    REQUIRED in the id_token."""
    first = AuthRequest(rp)
    user_agent.code_response(first.url(op))
    time.sleep(2.1)
    request = AuthRequest(rp)
    response = user_agent.session.get(request.url(op, max_age="1"), allow_redirects=False, timeout=TIMEOUT)
    assert "/accounts/login/" in response.headers["Location"]
    params = user_agent.code_response(request.url(op, max_age="1"))
    claims = op.verify_id_token(
        token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).json()["id_token"], "rp"
    )
    assert time.time() - claims["auth_time"] < 30


def test_oidcc_max_age_10000(op, rp, user_agent):
    """oidcc-max-age-10000: a recent authentication satisfies max_age; no login page."""
    user_agent.code_response(AuthRequest(rp).url(op))
    response = user_agent.session.get(AuthRequest(rp).url(op, max_age="10000"), allow_redirects=False, timeout=TIMEOUT)
    assert "/accounts/login/" not in response.headers.get("Location", "")


def test_oidcc_id_token_hint(op, rp, user_agent):
    """oidcc-id-token-hint: OIDC Core §3.1.2.1 id_token_hint naming the signed-in user with prompt=none
    succeeds."""
    request, body = _signed_in(op, rp, user_agent)
    response = user_agent.session.get(
        AuthRequest(rp).url(op, prompt="none", id_token_hint=body["id_token"]), allow_redirects=False, timeout=TIMEOUT
    )
    assert query(response.headers["Location"]).get("code")


def test_oidcc_id_token_hint_other_user_is_login_required(op, rp, user_agent, make_application, django_user_model):
    """OIDC Core §3.1.2.1 id_token_hint: "If the End-User identified by the ID Token is logged in or is
    logged in by the request, then the Authorization Server returns a positive response; otherwise, it
    SHOULD return an error, such as login_required"."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import PASSWORD

    bob = django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)
    bob_browser = Browser(op, TOTPDevice.objects.create(user=bob, name="phone", confirmed=True), username="bob")
    _request, bob_tokens = _signed_in(op, rp, bob_browser)
    _signed_in(op, rp, user_agent)  # alice
    request = AuthRequest(rp)
    response = user_agent.session.get(
        request.url(op, prompt="none", id_token_hint=bob_tokens["id_token"]), allow_redirects=False, timeout=TIMEOUT
    )
    params = query(response.headers["Location"])
    assert params["error"] == "login_required" and "code" not in params
    assert params["state"] == request.state and params["iss"] == op.issuer


def test_oidcc_id_token_hint_invalid_is_an_error(op, rp, user_agent):
    """OIDC Core §3.1.2.1 / §3.1.2.6: an id_token_hint that is no ID Token of this OP is invalid_request."""
    _signed_in(op, rp, user_agent)
    _request, body = _signed_in(op, rp, user_agent)
    header, payload, _signature = body["id_token"].split(".")
    for hint in ("not-a-jwt", f"{header}.{payload}.AAAA", f"{header}.!!!.{_signature}"):
        response = user_agent.session.get(
            AuthRequest(rp).url(op, prompt="none", id_token_hint=hint), allow_redirects=False, timeout=TIMEOUT
        )
        params = query(response.headers["Location"])
        assert params["error"] == "invalid_request" and "code" not in params, hint


def test_oidcc_login_hint(op, rp):
    """oidcc-login-hint: OIDC Core §3.1.2.1 login_hint "Hint to the Authorization Server about the login
    identifier the End-User might use"; the login page is prefilled."""
    page = requests.get(AuthRequest(rp).url(op, login_hint="alice"), timeout=TIMEOUT)
    assert 'id="id_username"' in page.text and 'value="alice"' in page.text


def test_oidcc_ui_locales(op, rp):
    """oidcc-ui-locales: OIDC Core §3.1.2.1 ui_locales "End-User's preferred languages ... for the user
    interface"; an offered language is used, an unknown one is no error."""
    page = requests.get(AuthRequest(rp).url(op, ui_locales="xx-YY fr-CA"), timeout=TIMEOUT)
    assert page.status_code == 200 and '<html lang="fr' in page.text
    assert '<html lang="en' in requests.get(AuthRequest(rp).url(op, ui_locales="xx"), timeout=TIMEOUT).text


def test_oidcc_claims_locales(op, rp, user_agent):
    """oidcc-claims-locales: OIDC Core §5.2 claims_locales is voluntary; the request succeeds."""
    assert user_agent.code_response(AuthRequest(rp).url(op, claims_locales="de"))["code"]


def test_oidcc_codereuse(op, rp, user_agent):
    """oidcc-codereuse: RFC 6749 §4.1.2 "If an authorization code is used more than once, the authorization
    server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on
    that authorization code"."""
    request = AuthRequest(rp)
    code = user_agent.code_response(request.url(op))["code"]
    first = token_endpoint(op, request.token_request(code), auth=rp.auth).json()
    again = token_endpoint(op, request.token_request(code), auth=rp.auth)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    userinfo = requests.get(
        op.config["userinfo_endpoint"], headers={"Authorization": f"Bearer {first['access_token']}"}, timeout=TIMEOUT
    )
    assert userinfo.status_code == 401
    refresh = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, rp.auth)
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_oidcc_ensure_registered_redirect_uri(op, rp):
    """oidcc-ensure-registered-redirect-uri: OIDC Core §3.1.2.1 redirect_uri "MUST exactly match one of
    the Redirection URI values for the Client pre-registered"; the error is shown, never redirected
    (RFC 6749 §4.1.2.1)."""
    response = requests.get(
        AuthRequest(rp).url(op, redirect_uri="https://attacker.example/cb"), allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_oidcc_ensure_redirect_uri_in_authorization_request(op, rp):
    """oidcc-ensure-redirect-uri-in-authorization-request: OIDC Core §3.1.2.1 redirect_uri is REQUIRED;
    without it the request is refused on a page (there is no redirect URI the request named)."""
    response = requests.get(AuthRequest(rp).url(op, redirect_uri=None), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "redirect_uri" in response.text


def test_oidcc_redirect_uri_query_ok(op, rp, user_agent):
    """oidcc-redirect-uri-query-OK: RFC 6749 §3.1.2 the registered redirect URI's query is kept and the
    response parameters are added to it."""
    rp2 = type(rp)(rp.client_id, f"{op.base}/cb2?tenant=a")
    request = AuthRequest(rp2)
    response = user_agent.authorize(request.url(op))
    params = query(response.headers["Location"])
    assert params["tenant"] == "a" and params["code"] and params["iss"] == op.issuer
    assert token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).status_code == 200


def test_oidcc_redirect_uri_query_mismatch_and_added(op, rp):
    """oidcc-redirect-uri-query-mismatch / -added: OIDC Core §3.1.2.1 exact match, so a changed or added
    query component is an unregistered redirect URI (shown, not redirected)."""
    for uri in (f"{op.base}/cb2?tenant=b", f"{op.base}/cb?extra=1"):
        response = requests.get(AuthRequest(rp).url(op, redirect_uri=uri), allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 400 and "Location" not in response.headers, uri


def test_oidcc_server_client_secret_post(op, rp, user_agent):
    """oidcc-server-client-secret-post: OIDC Core §9 client_secret_post at the token endpoint."""
    request = AuthRequest(rp)
    code = user_agent.code_response(request.url(op))["code"]
    data = request.token_request(code, client_id="rp", client_secret=rp.secret)
    assert token_endpoint(op, data).status_code == 200


def test_oidcc_unsigned_request_object_rejected_as_unsupported(op, rp, user_agent):
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: OIDC Core §6.1
    "request_not_supported: The OP does not support use of the request parameter", redirected with state
    and iss; discovery says request_parameter_supported false."""
    user_agent.code_response(AuthRequest(rp).url(op))
    request = AuthRequest(rp)
    response = user_agent.session.get(
        request.url(op, request="eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9."), allow_redirects=False, timeout=TIMEOUT
    )
    params = query(response.headers["Location"])
    assert params == {
        "error": "request_not_supported",
        "error_description": params["error_description"],
        "state": request.state,
        "iss": op.issuer,
    }
    assert op.config["request_parameter_supported"] is False


def test_oidcc_request_uri_rejected_as_unsupported(op, rp, user_agent):
    """oidcc-request-uri-unsigned(-supported-correctly-or-rejected-as-unsupported): OIDC Core §6.2
    "request_uri_not_supported", with state and iss; discovery says request_uri_parameter_supported false."""
    request = AuthRequest(rp)
    response = user_agent.session.get(
        request.url(op, request_uri="https://rp.example/request.jwt"), allow_redirects=False, timeout=TIMEOUT
    )
    params = query(response.headers["Location"])
    assert params["error"] == "request_uri_not_supported" and "code" not in params
    assert params["state"] == request.state and params["iss"] == op.issuer


def test_oidcc_ensure_post_request_succeeds(op, rp, user_agent):
    """oidcc-ensure-post-request-succeeds: OIDC Core §3.1.2.1 "Authorization Servers MUST support the use
    of the HTTP GET and POST methods"; a request posted cross-site (Form Serialization, no CSRF token)
    continues as its GET and yields a code."""
    request = AuthRequest(rp)
    posted = requests.post(
        op.config["authorization_endpoint"], data=request.params(), allow_redirects=False, timeout=TIMEOUT
    )
    assert posted.status_code == 303
    location = requests.compat.urljoin(op.base, posted.headers["Location"])
    params = user_agent.code_response(location)
    assert params["state"] == request.state
    assert token_endpoint(op, request.token_request(params["code"]), auth=rp.auth).status_code == 200


def test_oidcc_consent_post_without_csrf_token_is_refused(op, rp, user_agent):
    """The consent decision itself is not a cross-site POST: without the CSRF token it is refused and no
    code is issued (RFC 6749 §10.12)."""
    user_agent.code_response(AuthRequest(rp).url(op))
    request = AuthRequest(rp)
    response = user_agent.session.post(
        op.config["authorization_endpoint"],
        data={**request.params(), "allow": "Authorize"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 403 and "code=" not in response.headers.get("Location", "")


def test_oidcc_refresh_token(op, rp, tokens):
    """oidcc-refresh-token: RFC 6749 §6 / OIDC Core §12.2 a refresh gives new tokens; the new id_token
    keeps sub, acr and auth_time of the original authentication (§12.2 "its iss Claim Value MUST be
    the same ... its sub ... MUST be the same ... its auth_time ... MUST represent the time of the
    original authentication")."""
    request, body = tokens
    original = op.verify_id_token(body["id_token"], "rp", nonce=request.nonce)
    response = token_endpoint(op, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, rp.auth)
    assert response.status_code == 200
    refreshed = response.json()
    claims = op.verify_id_token(refreshed["id_token"], "rp")
    for name in ("iss", "sub", "aud", "acr", "auth_time"):
        assert claims[name] == original[name], name
    assert refreshed["refresh_token"] != body["refresh_token"]  # rotated (RFC 9700 §4.14.2)


def test_oidcc_userinfo_get_post_header_post_body(op, tokens):
    """oidcc-userinfo-get / -post-header / -post-body: OIDC Core §5.3.1 GET and POST, RFC 6750 §2.1 the
    header and §2.2 the form body; §5.3.2 sub equals the id_token's."""
    _request, body = tokens
    sub = op.verify_id_token(body["id_token"], "rp")["sub"]
    header = {"Authorization": f"Bearer {body['access_token']}"}
    endpoint = op.config["userinfo_endpoint"]
    answers = [
        requests.get(endpoint, headers=header, timeout=TIMEOUT),
        requests.post(endpoint, headers=header, timeout=TIMEOUT),
        requests.post(endpoint, data={"access_token": body["access_token"]}, timeout=TIMEOUT),
    ]
    for answer in answers:
        assert answer.status_code == 200 and answer.json()["sub"] == sub


def _signed_in(op, rp, user_agent):
    request = AuthRequest(rp)
    params = user_agent.code_response(request.url(op))
    response = token_endpoint(op, request.token_request(params["code"]), auth=rp.auth)
    assert response.status_code == 200, response.text
    return request, response.json()
