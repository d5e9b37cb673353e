"""Security notification mails in the language of the request that caused them; a factor removed on
the security page by a user browsing in German is told in German."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation

from mfa_oauth.notifications.mail import notify
from tests.conftest import pass_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_name(settings):
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "NOTIFICATIONS": {"SITE_NAME": "Bank"}}


LOCKED = {
    "de": ("Bank: Ihr zweiter Faktor ist gesperrt",
           "Die Codes bleiben gesperrt, bis ein Administrator sie entsperrt."),
    "es": ("Bank: su segundo factor está bloqueado",
           "Los códigos siguen bloqueados hasta que un administrador los desbloquee."),
    "fr": ("Bank : votre second facteur est bloqué",
           "Les codes restent bloqués jusqu’à ce qu’un administrateur les débloque."),
    "ja": ("Bank: 2段階認証がロックされました", "管理者が解除するまで、コードはロックされたままです。"),
    "pt-br": ("Bank: seu segundo fator está bloqueado",
              "Os códigos continuam bloqueados até que um administrador os desbloqueie."),
    "zh-hans": ("Bank：您的两步验证已被锁定", "验证码将保持锁定，直到管理员解锁。"),
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(LOCKED))
def test_the_lock_mail_in_each_language(user, language):
    with translation.override(language):
        assert notify("locked", user, failure_count=10, locked_until=None)
    subject, sentence = LOCKED[language]
    assert mail.outbox[0].subject == subject
    assert sentence in mail.outbox[0].body and "Codes stay locked" not in mail.outbox[0].body


def test_a_factor_removed_in_german_is_told_in_german(client, user, totp_device):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    spare = TOTPDevice.objects.create(user=user, name="tablet", confirmed=True)
    pass_second_factor(client, user, totp_device)
    response = client.post(f"/account/security/factors/{spare.persistent_id}/remove/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code in (302, 303) and not TOTPDevice.objects.filter(pk=spare.pk).exists()
    (message,) = mail.outbox
    assert message.subject == "Bank: Aus Ihrem Konto wurde ein zweiter Faktor entfernt"
    assert "Aus Ihrem Konto wurde ein zweiter Faktor entfernt: Authenticator-App („tablet“)." in message.body
