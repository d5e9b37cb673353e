"""Each shipped language on the second-factor challenge: picked with the site's language switcher
(Django's set_language), or by the authorization request's ui_locales (OIDC Core §3.1.2.1)."""

from __future__ import annotations

import html as htmlmod
import re
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.oauth import AuthorizationRequest, login

pytestmark = pytest.mark.django_db

# The challenge heading and the code help, as each catalogue in mfa_oauth/locale renders them.
CHALLENGE = {
    "de": ("Bestätigen Sie, dass Sie es sind", "Geben Sie einen Code von einem dieser Faktoren ein:"),
    "es": ("Confirme que es usted", "Escriba un código de cualquiera de estos:"),
    "fr": ("Confirmez votre identité", "Saisissez un code provenant de l’un de ces facteurs :"),
    "ja": ("本人確認をしてください", "次のいずれかのコードを入力してください:"),
    "pt-br": ("Confirme que é você", "Digite um código de qualquer um destes:"),
    "zh-hans": ("请确认是您本人", "请输入以下任一方式的验证码："),
}


def _challenge_page(client, request: AuthorizationRequest) -> str:
    """The challenge page the password step answers with, checked against a GET of its form's URL."""
    response = login(client, next_url=request.url())
    if response.status_code == 302:  # a site whose login redirects to the challenge
        response = client.get(response["Location"])
    html = response.content.decode()
    assert response.status_code == 200 and 'id="mfa-verify-form"' in html
    action = htmlmod.unescape(re.search(r'<form method="post" action="([^"]+)" id="mfa-verify-form"', html).group(1))
    again = client.get(action).content.decode()
    assert _heading(again) == _heading(html) and re.search("<html[^>]*>", again).group(0) == re.search(
        "<html[^>]*>", html
    ).group(0)
    return html


def _heading(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html).group(1)


def test_every_shipped_language_is_offered_by_the_switcher(client):
    offered = {code for code, _name in settings.LANGUAGES}
    assert offered == {"en", *CHALLENGE}
    html = client.get("/accounts/login/").content.decode()
    assert 'id="language-form"' in html and 'action="/i18n/setlang/"' in html
    assert set(re.findall(r'<option value="([^"]+)"', html)) == offered


@pytest.mark.parametrize("language", sorted(CHALLENGE))
def test_the_challenge_page_in_the_language_chosen_with_the_switcher(client, application, totp_device, language):
    switched = client.post("/i18n/setlang/", {"language": language, "next": "/accounts/login/"})
    assert switched.status_code == 302 and client.cookies[settings.LANGUAGE_COOKIE_NAME].value == language
    html = _challenge_page(client, AuthorizationRequest())
    heading, help_text = CHALLENGE[language]
    assert _heading(html) == heading and help_text in html
    assert f'<html lang="{language}" dir="ltr">' in html
    assert "Confirm it&#x27;s you" not in html and "Confirm it's you" not in html
    assert f'<option value="{language}" lang="{language}" selected>' in html


@pytest.mark.parametrize("language", sorted(CHALLENGE))
def test_the_challenge_page_in_the_language_of_ui_locales(client, application, totp_device, language):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})  # the switcher said English
    html = _challenge_page(client, AuthorizationRequest(extra={"ui_locales": f"xx {language}"}))
    assert _heading(html) == CHALLENGE[language][0]
    assert f'<html lang="{language}"' in html


def test_an_unoffered_ui_locales_leaves_the_chosen_language(client, application, totp_device):
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    html = _challenge_page(client, AuthorizationRequest(extra={"ui_locales": "xx-YY tlh"}))
    assert _heading(html) == CHALLENGE["de"][0]


def test_without_a_choice_the_browser_language_is_used(client, application, totp_device):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja,en;q=0.5"
    html = _challenge_page(client, AuthorizationRequest())
    assert _heading(html) == CHALLENGE["ja"][0] and '<html lang="ja"' in html


def test_english_is_the_default(client, application, totp_device):
    html = _challenge_page(client, AuthorizationRequest())
    assert _heading(html) == "Confirm it's you" and '<html lang="en' in html


# The reference site's own pages (idp_site/locale): the login heading and the consent question.
SITE = {
    "de": ("Anmelden", "rp autorisieren?"),
    "es": ("Iniciar sesión", "¿Autorizar a rp?"),
    "fr": ("Connexion", "Autoriser rp ?"),
    "ja": ("ログイン", "rp を承認しますか?"),
    "pt-br": ("Acessar", "Autorizar rp?"),
    "zh-hans": ("登录", "授权 rp？"),
}


@pytest.mark.parametrize("language", sorted(SITE))
def test_the_login_and_consent_pages_in_each_language(client, application, totp_device, language):
    from tests.oauth import pass_totp

    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    request = AuthorizationRequest()
    login_page = client.get("/accounts/login/?" + urlencode({"next": request.url()})).content.decode()
    assert _heading(login_page) == SITE[language][0]
    login(client, next_url=request.url())
    assert pass_totp(client, totp_device, next_url=request.url()).status_code in (302, 303)
    consent = client.get(request.url())
    assert consent.status_code == 200
    assert f'<h1 class="block-center-heading">{SITE[language][1]}</h1>' in consent.content.decode()


def test_the_security_key_script_speaks_the_page_language(client, application, user, totp_device):
    """webauthn.js reads its messages from the page (data-webauthn-messages), translated there."""
    from mfa_oauth.webauthn.models import WebAuthnCredential

    WebAuthnCredential.objects.create(
        user=user, name="key", credential_id=b"\x01" * 32, public_key=b"x", confirmed=True
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    html = _challenge_page(client, AuthorizationRequest())
    assert html.count("data-webauthn-messages") == 1
    assert 'data-unsupported="このブラウザーでは、ここでセキュリティキーやパスキーを使えません。"' in html
    assert 'data-server="サーバーの応答: {status}。"' in html
