"""A project overrides the adapter and a form; the change shows in the pages and the tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import checks, mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.adapter import DefaultMFAOAuthAdapter, get_adapter, get_form_class
from mfa_oauth.sms import codes, delivery
from mfa_oauth.sms.models import SMSMessage
from mfa_oauth.totp.flows import otpauth_uri
from tests.account.helpers import give_mfa
from tests.extending import project
from tests.oauth import full_authorization, jwt_payload

SECURITY = "/account/security/"


@pytest.fixture
def customised(settings):
    settings.MFA_OAUTH = {
        **settings.MFA_OAUTH,
        "ADAPTER": "tests.extending.project.ProjectAdapter",
        "FORMS": {"rename": "tests.extending.project.ProjectRenameForm"},
    }
    project.SENT.clear()
    yield
    project.SENT.clear()


def _prefix(device) -> str:
    return device.persistent_id.replace(".", "-").replace("/", "-")


def test_the_setting_chooses_the_adapter_and_a_change_resets_it(settings, customised):
    assert type(get_adapter()) is project.ProjectAdapter
    settings.MFA_OAUTH = {k: v for k, v in settings.MFA_OAUTH.items() if k != "ADAPTER"}
    assert type(get_adapter()) is DefaultMFAOAuthAdapter
    assert get_form_class("challenge").__name__ == "ChallengeForm"


def test_extra_claims_reach_id_token_and_userinfo_but_never_replace_acr(client, application, totp_device, customised):
    tokens = full_authorization(client, totp_device)
    claims = jwt_payload(tokens["id_token"])
    assert (claims["name"], claims["locale"]) == ("Alice Example", "en-GB")
    assert claims["acr"] == "urn:mfa_oauth:acr:mfa"
    userinfo = client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert userinfo.status_code == 200
    assert userinfo.json()["name"] == "Alice Example" and userinfo.json().get("acr") != "forged"


def test_totp_issuer_and_sms_text_come_from_the_adapter(user, customised):
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=False)
    uri = otpauth_uri(device)
    assert uri.startswith("otpauth://totp/Example%20Bank%3Aalice?") and "issuer=Example%20Bank" in uri
    now = timezone.now()
    message = SMSMessage(sealed_code=codes.seal("123456"), created_at=now, expires_at=now + timedelta(minutes=5))
    assert delivery.build_body(message) == "Example Bank code 123456 (5 min). We never ask for it by phone."
    message.purpose = SMSMessage.Purpose.TEST  # not overridden: the default text
    assert "this is a test message" in delivery.build_body(message)


def test_swapped_rename_form_renders_on_the_security_page_and_validates(client, totp_device, customised):
    give_mfa(client, totp_device.user, totp_device)
    page = client.get(SECURITY).content.decode()
    assert 'placeholder="e.g. work phone"' in page and 'data-project="rename"' in page and 'maxlength="32"' in page
    url = f"/account/security/factors/{totp_device.persistent_id}/rename/"
    response = client.post(url, {f"{_prefix(totp_device)}-name": "admin key"})
    assert response.status_code == 303
    totp_device.refresh_from_db()
    assert totp_device.name != "admin key"
    assert "Names may not mention admin here." in client.get(SECURITY).content.decode()
    client.post(url, {f"{_prefix(totp_device)}-name": "work phone"})
    totp_device.refresh_from_db()
    assert totp_device.name == "work phone"


def test_swapped_enrollment_forms_render_on_the_authenticator_app_and_phone_number_pages(client, totp_device, settings):
    """MFA_OAUTH["FORMS"]["totp_confirm"] and ["sms_number"]: the enrollment pages render their fields
    from the form classes, so a project's swap shows there."""
    settings.MFA_OAUTH = {
        **settings.MFA_OAUTH,
        "SMS_ENABLED": True,
        "FORMS": {
            "totp_confirm": "tests.extending.project.ProjectTOTPConfirmForm",
            "sms_number": "tests.extending.project.ProjectSMSNumberForm",
        },
    }
    give_mfa(client, totp_device.user, totp_device)
    totp_page = client.get("/mfa/enroll/totp/").content.decode()
    assert 'data-project="totp"' in totp_page and 'maxlength="6"' in totp_page
    assert "Six digits from your bank&#x27;s app" in totp_page or "Six digits from your bank's app" in totp_page
    sms_page = client.get("/mfa/sms/add/").content.decode()
    assert 'data-project="sms"' in sms_page and 'placeholder="+44 7700 900123"' in sms_page
    assert "Your mobile number" in sms_page and 'name="name"' in sms_page
    settings.MFA_OAUTH = {k: v for k, v in settings.MFA_OAUTH.items() if k != "FORMS"}
    default = client.get("/mfa/enroll/totp/").content.decode()
    assert 'data-project="totp"' not in default and 'autocomplete="one-time-code"' in default


def test_removal_rule_and_notification_delivery_come_from_the_adapter(client, totp_device, customised):
    user = totp_device.user
    vault = TOTPDevice.objects.create(user=user, name="vault", confirmed=True)
    other = TOTPDevice.objects.create(user=user, name="old phone", confirmed=True)
    give_mfa(client, user, totp_device)
    refused = client.post(f"/account/security/factors/{vault.persistent_id}/remove/")
    assert refused.status_code == 409 and "managed by your administrator" in refused.content.decode()
    assert TOTPDevice.objects.filter(pk=vault.pk).exists()
    removed = client.post(f"/account/security/factors/{other.persistent_id}/remove/")
    assert removed.status_code == 303 and not TOTPDevice.objects.filter(pk=other.pk).exists()
    # The project delivers notifications itself: no mail, one entry in its own outbox.
    assert mail.outbox == []
    assert [n["kind"] for n in project.SENT] == ["factor_removed"] and project.SENT[0]["to"] == [user.email]


def _ids(settings_dict, settings) -> dict[str, str]:
    settings.MFA_OAUTH = settings_dict
    from mfa_oauth.settings_checks import check_mfa_oauth_settings

    return {m.id: m.hint or m.msg for m in check_mfa_oauth_settings(None)}


def test_checks_name_a_typo_a_wrong_type_a_bad_adapter_and_form(settings):
    found = _ids(
        {
            "MAX_FAILED_ATTEMPT": 5,
            "SMS_ENABLED": "yes",
            "ADAPTER": "tests.extending.project.ProjectRenameForm",
            "FORMS": {"renam": "tests.extending.project.ProjectRenameForm"},
        },
        settings,
    )
    assert found["mfa_oauth.W120"] == "Did you mean 'MAX_FAILED_ATTEMPTS'?"
    assert "mfa_oauth.E123" in found and "mfa_oauth.E121" in found
    assert found["mfa_oauth.E122"] == "Did you mean 'rename'?"
    assert _ids({"FORMS": {"rename": "tests.extending.project.ProjectRenameForm"}}, settings) == {}


def test_moved_settings_are_still_read_and_warned_about(settings, user):
    settings.MFA_OAUTH_NOTIFICATIONS = {"SITE_NAME": "Old Name"}
    found = _ids({}, settings)
    assert found["mfa_oauth.W121"] == "Move it to MFA_OAUTH['NOTIFICATIONS']."
    from mfa_oauth.notifications.mail import notify

    assert notify("locked", user, failure_count=10)
    assert mail.outbox[0].subject.startswith("Old Name")
    settings.OTP_SMS_THROTTLE_FACTOR = 0
    from mfa_oauth.conf import settings as mfa_settings

    assert mfa_settings.SMS_THROTTLE_FACTOR == 0
    assert "mfa_oauth.W121" in _ids({}, settings)


def test_the_site_passes_its_own_settings_checks(db):
    assert [m.id for m in checks.run_checks() if m.id and m.id[len("mfa_oauth.") :][1:3] == "12"] == []


def test_every_setting_is_in_the_documented_table():
    from pathlib import Path

    from mfa_oauth.conf import DEFAULTS

    table = (Path(__file__).resolve().parents[2] / "docs" / "extending.md").read_text()
    assert [key for key in DEFAULTS if f"| `{key}` |" not in table] == []
