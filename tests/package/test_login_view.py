"""The login view and template the package ships (mfa_oauth.auth_urls), so a project needs none of
its own: accessible, translatable, no inline script or style (strict CSP), bad input answered on the
page, and the shortcut straight to the second factor (mfa_oauth.oauth.after_login)."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.package.urls_shipped_login")]

PASSWORD = "a-long-enough-password-1"


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create_user("carol", password=PASSWORD)


@pytest.fixture
def totp_device_for():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return lambda user: TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_the_page_is_accessible_and_has_no_inline_script_or_style(client):
    page = client.get("/accounts/login/")
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<html lang="[a-z-]+"', html)
    for field in ("id_username", "id_password"):
        assert f'<label for="{field}"' in html and f'id="{field}"' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # only external scripts
    assert 'id="webauthn-passkey"' in html  # mfa_oauth.webauthn is installed in the test settings


def test_without_webauthn_there_is_no_passkey_button(client, settings):
    from django.apps import apps

    with override_settings(INSTALLED_APPS=[a for a in settings.INSTALLED_APPS if a != "mfa_oauth.webauthn"]):
        assert not apps.is_installed("mfa_oauth.webauthn")
        html = client.get("/accounts/login/").content.decode()
    assert 'id="login-form"' in html and "webauthn" not in html


def test_the_page_is_translated(client):
    # The site's LocaleMiddleware picks the language from Accept-Language.
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    # The labels come from Django's AuthenticationForm, the heading and button through {% translate %}.
    assert "Nom d’utilisateur" in html and "<h1>Connexion</h1>" in html


def test_a_wrong_password_is_said_on_the_page(client, person):
    page = client.post("/accounts/login/", {"username": "carol", "password": "wrong"})
    html = page.content.decode()
    assert page.status_code == 200 and 'role="alert"' in html and 'id="login-error"' in html
    assert "_auth_user_id" not in client.session


def test_empty_and_junk_input_never_fails(client):
    for data in (
        {},
        {"username": ""},
        {"username": "x" * 10_000, "password": "\u202e"},
        {"next": "https://evil.example/"},
    ):
        assert client.post("/accounts/login/", data).status_code == 200


def test_a_foreign_next_is_not_followed(client, person):
    page = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD, "next": "https://evil.example/"})
    assert page.status_code == 302 and not urlsplit(page["Location"]).netloc


def test_logout_is_post_only(client, person, settings):
    settings.LOGOUT_REDIRECT_URL = None  # Django's default: the shipped "logged out" page
    client.force_login(person)
    assert client.get("/accounts/logout/").status_code == 405
    page = client.post("/accounts/logout/")
    assert page.status_code == 200 and 'href="/accounts/login/"' in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_from_the_authorization_endpoint_goes_straight_to_the_second_factor(client, person, totp_device_for):
    from oauth2_provider.models import get_application_model

    totp_device_for(person)
    application = get_application_model().objects.create(
        name="c", client_id="shipped-login-client", client_type="public",
        authorization_grant_type="authorization-code", redirect_uris="https://rp.example/cb", algorithm="RS256",
    )  # fmt: skip
    authorize = "/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": application.client_id, "redirect_uri": "https://rp.example/cb",
        "scope": "openid", "code_challenge": "x" * 43, "code_challenge_method": "S256",
    })  # fmt: skip
    page = client.post("/accounts/login/?" + urlencode({"next": authorize}), {"username": "carol", "password": PASSWORD,
                       "next": authorize})  # fmt: skip
    # The challenge page itself answers the password POST (one round trip fewer); its form posts to
    # /mfa/verify/ (mfa_oauth.oauth.after_login).
    assert page.status_code == 200 and b'id="mfa-verify-form"' in page.content
    assert b'action="/mfa/verify/?' in page.content
