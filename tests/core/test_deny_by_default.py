"""Deny by default: a password-only session gets no code and no token, whatever it tries.

Every HTTP method × every kind of client (consent, ``skip_authorization``, ``approval_prompt=auto``
with a live token, ``prompt=none``) × every response type, with ``OIDC_ENABLED`` on and off, at the
authorization endpoint; the password grant at the token endpoint; every method at the device-flow
approval. The user has a TOTP device and every client's policy asks for it, so only the second
factor (never given here) could open the gate.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_device_grant_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from mfa_oauth.models import AuthenticationRecord, ClientPolicy
from tests.conftest import CLIENT_SECRET, PASSWORD, REDIRECT_URI
from tests.oauth import AuthorizationRequest, login

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CLIENT_KINDS = ("consent", "skip_authorization", "approval_prompt_auto", "prompt_none")
RESPONSE_TYPES = (
    "code",
    "token",
    "id_token",
    "id_token token",
    "code token",
    "code id_token",
    "code id_token token",
    "none",
)
ISSUED = ("code", "access_token", "id_token", "refresh_token")
# A project that never heard of DOT's RFC 9700 flags: mfa_oauth alone must refuse these flows.
WITHOUT_DOT_BCP_FLAGS = {
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": False,
}


def _configure_dot(settings, oidc_enabled: bool) -> None:
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ENABLED": oidc_enabled,
        **WITHOUT_DOT_BCP_FLAGS,
        # DOT keeps the oauthlib core it built first on each view class; rebuild it for this mode.
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
    }


def _grant_type_for(response_type: str) -> str:
    """The most permissive registration for a response type: the client may use it, if anything may."""
    Application = get_application_model()
    kinds = set(response_type.split())
    if kinds <= {"code", "none"}:
        return Application.GRANT_AUTHORIZATION_CODE
    if "code" in kinds:
        return Application.GRANT_OPENID_HYBRID
    return Application.GRANT_IMPLICIT


def _client(kind: str, response_type: str, user):
    Application = get_application_model()
    owner = type(user).objects.get_or_create(username="owner")[0]
    app = Application.objects.create(
        name=f"{kind} {response_type}",
        client_id=f"{kind}-{response_type.replace(' ', '-')}",
        client_secret=CLIENT_SECRET,
        user=owner,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=_grant_type_for(response_type),
        redirect_uris=REDIRECT_URI,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=kind == "skip_authorization",
    )
    ClientPolicy.objects.create(application=app, mfa_mode="always")
    if kind in ("approval_prompt_auto", "prompt_none"):
        # A live token for the same scopes: DOT's "already approved" path (and prompt=none's consent).
        get_access_token_model().objects.create(
            user=user,
            application=app,
            token=f"live-{app.client_id}",
            expires=timezone.now() + timedelta(hours=1),
            scope="openid profile",
        )
    return app


def _issued_rows() -> dict[str, int]:
    return {
        "grants": get_grant_model().objects.count(),
        "access_tokens": get_access_token_model().objects.count(),
        "refresh_tokens": get_refresh_token_model().objects.count(),
        "id_tokens": get_id_token_model().objects.count(),
        "records": AuthenticationRecord.objects.count(),
    }


def _params(kind: str, app, response_type: str, scope: str) -> dict[str, str]:
    request = AuthorizationRequest(client_id=app.client_id, scope=scope)
    params = parse_qs(urlparse(request.url(response_type=response_type)).query)
    flat = {k: v[0] for k, v in params.items()}
    if kind == "approval_prompt_auto":
        flat["approval_prompt"] = "auto"
    if kind == "prompt_none":
        flat["prompt"] = "none"
    flat["allow"] = "Authorize"  # what a consent form posts
    return flat


def _send(client: Client, method: str, params: dict[str, str]):
    url = "/o/authorize/?" + urlencode(params)
    if method == "POST":
        return client.post("/o/authorize/", params)
    if method in ("PUT", "PATCH", "DELETE"):
        return client.generic(method, url, urlencode(params), content_type="application/x-www-form-urlencoded")
    return client.generic(method, url)


def _nothing_issued_in(response) -> list[str]:
    """The credential parameters a response hands to the client (query or fragment of Location)."""
    location = response.get("Location", "")
    parsed = urlparse(location)
    found = parse_qs(parsed.query) | parse_qs(parsed.fragment)
    return [name for name in ISSUED if name in found]


@pytest.fixture(autouse=True)
def _fresh_oauthlib_cores():
    """DOT keeps the oauthlib core it built on each view class: none built here outlives the test."""
    yield
    from oauth2_provider.views.mixins import OAuthLibMixin

    pending = [OAuthLibMixin]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "_oauthlib_core" in vars(cls):
            delattr(cls, "_oauthlib_core")


@pytest.fixture
def password_only(client, user, totp_device):
    response = login(client)
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("oidc_enabled", [True, False], ids=["oidc", "oauth2"])
@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_no_code_and_no_token_for_a_password_only_session(password_only, user, settings, method, kind, oidc_enabled):
    _configure_dot(settings, oidc_enabled)
    scope = "openid profile" if oidc_enabled else "profile"
    for response_type in RESPONSE_TYPES:
        app = _client(kind, response_type, user)
        before = _issued_rows()
        response = _send(password_only, method, _params(kind, app, response_type, scope))
        where = f"{method} {kind} response_type={response_type!r}"
        assert response.status_code < 500, where
        assert _nothing_issued_in(response) == [], (where, response.get("Location"))
        assert _issued_rows() == before, where
        if method not in ("GET", "POST"):
            assert response.status_code == 405, where
            assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}, where
        # The session is still the password-only one: nothing upgraded it on the way.
        assert [f["method"] for f in password_only.session["mfa_oauth.context"]["factors"]] == ["pwd"], where


def test_head_on_a_skip_authorization_client_issues_nothing(password_only, user):
    # The review's exploit, step by step: HEAD answered with get(), and DOT's get() issued a code for a
    # skip_authorization client; the token endpoint then returned acr pwd for an "always" client.
    app = _client("skip_authorization", "code", user)
    request = AuthorizationRequest(client_id=app.client_id)
    response = password_only.head(request.url())
    assert response.status_code == 405
    assert "code" not in parse_qs(urlparse(response.get("Location", "")).query)
    assert get_grant_model().objects.count() == 0


def test_head_with_approval_prompt_auto_and_a_live_token_issues_nothing(password_only, user):
    app = _client("approval_prompt_auto", "code", user)
    request = AuthorizationRequest(client_id=app.client_id, scope="openid profile")
    response = password_only.head(request.url(approval_prompt="auto"))
    assert response.status_code == 405
    assert get_grant_model().objects.count() == 0


@pytest.mark.parametrize("oidc_enabled", [True, False], ids=["oidc", "oauth2"])
def test_password_grant_is_refused_whatever_oidc_enabled(client, user, totp_device, settings, oidc_enabled):
    _configure_dot(settings, oidc_enabled)
    Application = get_application_model()
    app = Application.objects.create(
        name="legacy",
        client_id="legacy",
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
        redirect_uris="",
    )
    response = client.post(
        "/o/token/",
        {
            "grant_type": "password",
            "username": user.username,
            "password": PASSWORD,
            "scope": "openid profile" if oidc_enabled else "profile",
            "client_id": app.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert get_access_token_model().objects.count() == 0


@pytest.mark.parametrize("oidc_enabled", [True, False], ids=["oidc", "oauth2"])
@pytest.mark.parametrize("response_type", [t for t in RESPONSE_TYPES if t != "code"])
def test_other_response_types_get_unsupported_response_type(client, user, settings, oidc_enabled, response_type):
    # RFC 6749 §4.1.2.1; OAuth 2.0 Multiple Response Type Encoding Practices §5: an unsupported
    # response type is an error sent to the (registered) redirect URI, not a page and not a code.
    _configure_dot(settings, oidc_enabled)
    app = _client("skip_authorization", response_type, user)
    client.force_login(user)
    request = AuthorizationRequest(client_id=app.client_id, scope="openid profile" if oidc_enabled else "profile")
    response = client.get(request.url(response_type=response_type))
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["error"] == "unsupported_response_type", params
    assert params["state"] == request.state
    assert _nothing_issued_in(response) == []


def test_unsupported_response_type_with_a_foreign_redirect_uri_is_never_redirected(client, user):
    app = _client("skip_authorization", "code id_token", user)
    client.force_login(user)
    request = AuthorizationRequest(client_id=app.client_id, redirect_uri="https://attacker.example/cb")
    response = client.get(request.url(response_type="code id_token"))
    assert response.status_code == 400
    assert "attacker.example" not in response.get("Location", "")


@pytest.mark.parametrize("path", ["/o/.well-known/openid-configuration", "/o/.well-known/oauth-authorization-server"])
@pytest.mark.parametrize("oidc_enabled", [True, False], ids=["oidc", "oauth2"])
def test_discovery_advertises_only_what_is_accepted(client, db, settings, path, oidc_enabled):
    _configure_dot(settings, oidc_enabled)
    response = client.get(path)
    if response.status_code == 404:  # OIDC discovery exists only with OIDC on (DOT's OIDCOnlyMixin)
        assert not oidc_enabled and "openid" in path
        return
    data = response.json()
    assert data["response_types_supported"] == ["code"]
    assert set(data["grant_types_supported"]) == {
        "authorization_code",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    }


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"OAUTH2_SERVER_CLASS": "oauthlib.oauth2.Server"}, "With OIDC_ENABLED on"),
        ({"OAUTH2_SERVER_CLASS": None, "OIDC_SERVER_CLASS": "mfa_oauth.oauth.server.MFAServer"}, "OIDC_ENABLED off"),
        ({"OAUTH2_SERVER_CLASS": None, "OIDC_SERVER_CLASS": "oauthlib.openid.Server"}, "OIDC_ENABLED on"),
        ({"OAUTH2_SERVER_CLASS": "no.such.Server"}, "no.such.Server"),
    ],
)
def test_a_server_class_that_is_not_ours_is_a_system_check_error(settings, overrides, message):
    configured = {**settings.OAUTH2_PROVIDER, **overrides}
    settings.OAUTH2_PROVIDER = {k: v for k, v in configured.items() if v is not None}
    errors = _check_messages("mfa_oauth.E002")
    assert errors and any(message in e.msg for e in errors), [e.msg for e in errors]
    assert all(e.is_serious() for e in errors)


def test_a_validator_that_is_not_ours_is_a_system_check_error(settings):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OAUTH2_VALIDATOR_CLASS": "oauth2_provider.oauth2_validators.OAuth2Validator",
    }
    errors = _check_messages("mfa_oauth.E003")
    assert errors and all(e.is_serious() for e in errors)


def test_the_reference_site_passes_its_own_checks():
    assert _check_messages("mfa_oauth.E002") == [] and _check_messages("mfa_oauth.E003") == []
    call_command("check", "--fail-level", "ERROR")  # raises SystemCheckError on any error


def _check_messages(check_id: str):
    from django.core.checks import run_checks

    return [m for m in run_checks() if m.id == check_id]


# --- the device flow's approval ---------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_device_approval_needs_the_second_factor_on_every_method(client, user, totp_device, device_app, method):
    device = Client().post(
        "/o/device-authorization/",
        urlencode({"client_id": device_app.client_id, "client_secret": CLIENT_SECRET, "scope": "openid"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert device.status_code == 200, device.content
    user_code = device.json()["user_code"]
    login(client)
    path = f"/o/device-confirm/{device_app.client_id}/{user_code}"
    response = client.generic(
        method, path, urlencode({"action": "accept"}), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (302, 405), (method, response.status_code)
    if response.status_code == 302:
        assert urlparse(response["Location"]).path == "/mfa/verify/"
    grant = get_device_grant_model().objects.get(user_code=user_code)
    assert grant.status == grant.AUTHORIZATION_PENDING
    assert grant.user_id is None
    poll = Client().post(
        "/o/token/",
        urlencode(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device.json()["device_code"],
                "client_id": device_app.client_id,
                "client_secret": CLIENT_SECRET,
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert poll.status_code == 400 and poll.json()["error"] == "authorization_pending"
