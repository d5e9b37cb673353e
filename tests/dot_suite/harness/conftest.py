"""Fixtures DOT's test modules use, written for this repository from how the modules use them.

Every fixture below is named by at least one module of DOT's sdist (``tests/test_*.py``); what
it yields is inferred from the asserts there (e.g. ``application`` redirects to
``http://example.org`` and signs id_tokens with RS256, ``public_application`` redirects to
``http://other.org``). See docs/dot-suite.md.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.signals import setting_changed
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_application_model, get_id_token_model
from oauth2_provider.settings import oauth2_settings as dot_settings

from . import presets
from .flavour import MFA_OAUTH_PROVIDER_SETTINGS, OURS

CLEARTEXT_SECRET = "1234567890abcdefghijklmnopqrstuvwxyz"


def pytest_configure(config):
    for marker in (
        "oauth: a test of the OAuth 2.0 endpoints",
        "oauth2_settings(dict): the OAUTH2_PROVIDER the oauth2_settings fixture installs",
        "nologinrequiredmiddleware: run without django.contrib.auth's LoginRequiredMiddleware",
    ):
        config.addinivalue_line("markers", marker)


# --- every OAUTH2_PROVIDER a test installs -----------------------------------------------------


def complete_provider_settings(*, setting: str, value, **kwargs) -> None:
    """Runs when a test replaces OAUTH2_PROVIDER (override_settings, the oauth2_settings fixture).

    Both runs: ``ALWAYS_RELOAD_OAUTHLIB_CORE``, so a view class never keeps the oauthlib server
    an earlier test built with other settings (DOT caches it per view class).
    The mfa_oauth run: the replacement is for a site that runs mfa_oauth, so the site's validator
    and server classes stay, unless the test names its own (then it tests that class, in both
    runs alike)."""
    if setting != "OAUTH2_PROVIDER" or not isinstance(value, dict):
        return
    value.setdefault("ALWAYS_RELOAD_OAUTHLIB_CORE", True)
    if OURS:
        for key, dotted in MFA_OAUTH_PROVIDER_SETTINGS.items():
            value.setdefault(key, dotted)
    dot_settings.reload()


setting_changed.connect(complete_provider_settings, dispatch_uid="dot_suite.complete_provider_settings")


# --- settings ---------------------------------------------------------------------------------


class OAuth2SettingsOverride:
    """What ``oauth2_settings`` yields: DOT's settings object, whose attributes a test may set
    (undone when the test ends), and ``update(dict)`` to install a whole OAUTH2_PROVIDER."""

    def __init__(self, django_settings_fixture, provider_settings: dict) -> None:
        object.__setattr__(self, "_settings", django_settings_fixture)
        self.update(provider_settings)

    def update(self, provider_settings: dict) -> None:
        # pytest-django's settings fixture sends setting_changed; DOT reloads its settings on it.
        self._settings.OAUTH2_PROVIDER = dict(provider_settings)
        dot_settings.reload()

    def __getattr__(self, name: str):
        return getattr(dot_settings, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(dot_settings, name, value)
        # DOT's reload() forgets the attributes it cached, this one included.
        dot_settings._cached_attrs.add(name)

    def __delattr__(self, name: str) -> None:
        delattr(dot_settings, name)
        dot_settings._cached_attrs.discard(name)

    def restore(self) -> None:
        # Forget what the test set; pytest-django's settings fixture then puts OAUTH2_PROVIDER back.
        dot_settings.reload()


@pytest.fixture
def oauth2_settings(request, settings):
    marker = request.node.get_closest_marker("oauth2_settings")
    override = OAuth2SettingsOverride(settings, marker.args[0] if marker else {})
    if request.instance is not None:  # unittest-style classes read self.oauth2_settings
        request.instance.oauth2_settings = override
    yield override
    override.restore()


@pytest.fixture(autouse=True)
def _login_required_middleware(request):
    if request.node.get_closest_marker("nologinrequiredmiddleware") is None:
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith(".LoginRequiredMiddleware")]
    yield


@pytest.fixture
def rp_settings(oauth2_settings):
    oauth2_settings.update(presets.OIDC_SETTINGS_RP_LOGOUT)
    return oauth2_settings


@pytest.fixture(scope="session")
def _oidc_jwk():
    return jwk.JWK.from_pem(django_settings.OIDC_RSA_PRIVATE_KEY.encode("ascii"))


@pytest.fixture
def oidc_key(request, _oidc_jwk):
    if request.instance is not None:
        request.instance.key = _oidc_jwk
    return _oidc_jwk


# --- users and clients ------------------------------------------------------------------------


@pytest.fixture
def test_user(db):
    return get_user_model().objects.create_user("test_user", "test@example.com", "123456")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("other_user", "other@example.com", "123456")


@pytest.fixture
def logged_in_client(test_user):
    client = Client()
    client.force_login(test_user)
    return client


def _application(name: str, uri: str, client_type: str, **extra):
    Application = get_application_model()
    return Application.objects.create(
        name=name,
        redirect_uris=uri,
        post_logout_redirect_uris=uri,
        client_type=client_type,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        client_secret=CLEARTEXT_SECRET,
        **extra,
    )


@pytest.fixture
def application(db):
    return _application("Test Application", "http://example.org", get_application_model().CLIENT_CONFIDENTIAL)


@pytest.fixture
def public_application(db):
    return _application("Other Application", "http://other.org", get_application_model().CLIENT_PUBLIC)


@pytest.fixture
def hybrid_application(application):
    application.authorization_grant_type = application.GRANT_OPENID_HYBRID
    application.client_secret = CLEARTEXT_SECRET  # hashed again on save
    application.save()
    return application


@pytest.fixture
def cors_application(db):
    return _application(
        "CORS Application",
        "https://example.com",
        get_application_model().CLIENT_CONFIDENTIAL,
        allowed_origins="https://example.com http://example.com",
    )


# --- tokens -----------------------------------------------------------------------------------


def _tokens(oauth2_settings, application, user, client, provider_settings: dict, scope: str, redirect_uri: str):
    """An access token and id_token obtained the way a client does: consent posted by the logged-in
    user, then the code redeemed at the token endpoint."""
    oauth2_settings.update(provider_settings)
    client.force_login(user)
    response = client.post(
        reverse("oauth2_provider:authorize"),
        data={
            "client_id": application.client_id,
            "state": "random_state_string",
            "scope": scope,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "allow": True,
        },
    )
    assert response.status_code == 302, response
    code = parse_qs(urlparse(response["Location"]).query)["code"][0]
    client.logout()
    response = client.post(
        reverse("oauth2_provider:token"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": application.client_id,
            "client_secret": CLEARTEXT_SECRET,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    return SimpleNamespace(
        user=user,
        application=application,
        access_token=body["access_token"],
        id_token=body["id_token"],
        oauth2_settings=oauth2_settings,
    )


@pytest.fixture
def oidc_tokens(oauth2_settings, application, test_user, client):
    return _tokens(
        oauth2_settings, application, test_user, client, presets.OIDC_SETTINGS_RW, "openid", "http://example.org"
    )


@pytest.fixture
def oidc_email_scope_tokens(oauth2_settings, application, test_user, client):
    return _tokens(
        oauth2_settings,
        application,
        test_user,
        client,
        presets.OIDC_SETTINGS_EMAIL_SCOPE,
        "openid email",
        "http://example.org",
    )


@pytest.fixture
def oidc_non_confidential_tokens(oauth2_settings, public_application, test_user, client):
    return _tokens(
        oauth2_settings,
        public_application,
        test_user,
        client,
        presets.OIDC_SETTINGS_EMAIL_SCOPE,
        "openid",
        "http://other.org",
    )


def _signed_expired_id_token(oauth2_settings, key, user, application, **overrides) -> str:
    """An id_token that expired 61 s ago (beyond jwcrypto's default 60 s leeway), stored like one
    DOT issued (RP-initiated logout looks it up by jti)."""
    expires = timezone.now() - timedelta(seconds=61)
    jti = str(uuid.uuid4())
    claims = {
        "exp": int(expires.timestamp()),
        "jti": jti,
        "aud": application.client_id,
        "iss": oauth2_settings.OIDC_ISS_ENDPOINT,
        **overrides,
    }
    token = jwt.JWT(header={"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}, claims=claims)
    token.make_signed_token(key)
    get_id_token_model().objects.create(user=user, scope="", expires=expires, jti=jti, application=application)
    return token.serialize()


@pytest.fixture
def expired_id_token(oauth2_settings, oidc_key, test_user, application):
    return _signed_expired_id_token(oauth2_settings, oidc_key, test_user, application)


@pytest.fixture
def id_token_wrong_aud(oauth2_settings, oidc_key, test_user, application):
    return _signed_expired_id_token(oauth2_settings, oidc_key, test_user, application, aud="")


@pytest.fixture
def id_token_wrong_iss(oauth2_settings, oidc_key, test_user, application):
    return _signed_expired_id_token(oauth2_settings, oidc_key, test_user, application, iss="")
