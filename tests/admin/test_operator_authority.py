"""Operator actions: least privilege over the target, the operator's own fresh second factor, and
every HTTP method decided (mfa_oauth.operators.authority and .guard)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth import lockout
from mfa_oauth.backup_codes.models import BackupCodeDevice
from mfa_oauth.conf import settings as mfa_settings
from mfa_oauth.methods import confirmed_devices
from mfa_oauth.models import UserMFAState
from tests.account.helpers import give_mfa, login, make_staff, verify_totp
from tests.conftest import PASSWORD

User = get_user_model()
RFC4226_SEED_HEX = b"12345678901234567890".hex()
HELPDESK_PERMISSIONS = ("view_user", "change_user", "add_totpdevice", "change_totpdevice", "delete_totpdevice")


def make_operator(username: str = "helpdesk", permissions=HELPDESK_PERMISSIONS, **extra):
    """A staff member who is not a superuser, with exactly ``permissions``."""
    operator = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=True, **extra)
    operator.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    return User.objects.get(pk=operator.pk)  # no stale permission cache


@pytest.fixture
def helpdesk(db):
    return make_operator()


@pytest.fixture
def helpdesk_client(client, helpdesk):
    give_mfa(client, helpdesk, TOTPDevice.objects.create(user=helpdesk, name="helpdesk phone", confirmed=True))
    return client


@pytest.fixture
def root(db):
    superuser = make_staff("root")
    TOTPDevice.objects.create(user=superuser, name="root phone", confirmed=True)
    return superuser


@pytest.fixture
def auditor(db):
    """A user holding a permission the helpdesk lacks."""
    return make_operator("auditor", ("view_user", "view_authevent", "delete_user"))


def _url(user, suffix: str) -> str:
    return f"/admin/auth/user/{user.pk}/{suffix}"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _factor_state(user) -> tuple:
    return (
        sorted((type(d).__name__, d.pk) for d in confirmed_devices(user)),
        TOTPDevice.objects.filter(user=user).count(),
        HOTPDevice.objects.filter(user=user).count(),
        BackupCodeDevice.objects.filter(user=user).count(),
        UserMFAState.objects.filter(user=user).values_list("failure_count", "locked_at").first(),
    )


MFA_ACTIONS = [
    ("mfa/reset/", {}),
    ("mfa/unlock/", {}),
    ("mfa/backup-codes/", {"nonce": "x"}),
    ("mfa/enroll/totp/", {"nonce": "x", "name": "mine now"}),
    ("mfa/enroll/hotp/", {"name": "mine", "secret": RFC4226_SEED_HEX, "digits": 6, "counter": 0}),
    ("mfa/enroll/sms/", {"number": "+41 79 123 45 67", "name": "mine"}),
]


# --- the decision -----------------------------------------------------------------------------


def test_authority_is_least_privilege(helpdesk, root, auditor, user):
    from mfa_oauth.operators.authority import authority_over

    assert not authority_over(helpdesk, root).allowed
    assert "superuser" in authority_over(helpdesk, root).reason
    refused = authority_over(helpdesk, auditor)
    assert not refused.allowed and "auth.delete_user" in refused.reason
    assert authority_over(helpdesk, user).allowed and authority_over(helpdesk, helpdesk).allowed
    assert authority_over(root, auditor).allowed and authority_over(root, root).allowed
    assert not authority_over(user, make_operator("peer", ())).allowed  # staff over a non-staff operator


def test_an_inactive_account_keeps_its_permissions_for_the_decision(helpdesk, auditor):
    from mfa_oauth.operators.authority import authority_over

    # ModelBackend answers no permission for an inactive account; reactivating gives them back.
    User.objects.filter(pk=auditor.pk).update(is_active=False)
    assert not authority_over(helpdesk, User.objects.get(pk=auditor.pk)).allowed


# --- a helpdesk with change_user cannot take over a more privileged account -------------------


@pytest.mark.parametrize(("suffix", "data"), MFA_ACTIONS)
def test_helpdesk_cannot_change_a_superusers_factors(helpdesk_client, root, suffix, data):
    before = _factor_state(root)
    for method in ("get", "post"):
        response = getattr(helpdesk_client, method)(_url(root, suffix), data)
        assert response.status_code == 302, (method, response.status_code)
        assert response["Location"] == _url(root, "change/")
        assert any("superuser" in m for m in _messages(response)), _messages(response)
        assert 'id="mfa-secret"' not in response.content.decode()
    assert _factor_state(root) == before
    assert len(mail.outbox) == 0


@pytest.mark.parametrize(("suffix", "data"), MFA_ACTIONS)
def test_helpdesk_cannot_change_the_factors_of_a_user_with_more_permissions(helpdesk_client, auditor, suffix, data):
    TOTPDevice.objects.create(user=auditor, name="auditor phone", confirmed=True)
    before = _factor_state(auditor)
    for method in ("get", "post"):
        response = getattr(helpdesk_client, method)(_url(auditor, suffix), data)
        assert response.status_code == 302 and response["Location"] == _url(auditor, "change/")
        assert any("auth.delete_user" in m for m in _messages(response)), _messages(response)
    assert _factor_state(auditor) == before


def test_helpdesk_cannot_test_sms_on_a_superuser(helpdesk_client, root):
    device = TOTPDevice.objects.get(user=root)
    response = helpdesk_client.post(_url(root, f"mfa/test-sms/{device.pk}/"))
    assert response.status_code == 302 and response["Location"] == _url(root, "change/")


def test_helpdesk_still_serves_ordinary_users(helpdesk_client, user):
    form = helpdesk_client.get(_url(user, "mfa/enroll/totp/")).content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', form).group(1)
    shown = helpdesk_client.post(_url(user, "mfa/enroll/totp/"), {"nonce": nonce, "name": "handed over"})
    assert 'id="mfa-secret"' in shown.content.decode()
    assert TOTPDevice.objects.filter(user=user, name="handed over").exists()


def test_the_superusers_page_says_why_and_offers_no_action(helpdesk_client, root):
    response = helpdesk_client.get(_url(root, "change/"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="mfa-refused"' in page and 'id="mfa-enroll-totp"' not in page
    assert 'name="_save"' not in page  # Django's read-only view of the account


def test_helpdesk_cannot_set_a_superusers_password(helpdesk_client, root):
    response = helpdesk_client.post(
        _url(root, "password/"),
        {"password1": "taken over 123!", "password2": "taken over 123!", "usable_password": "true"},
    )
    assert response.status_code in (302, 403)
    assert User.objects.get(pk=root.pk).check_password(PASSWORD)


def test_helpdesk_cannot_edit_or_delete_a_superuser(helpdesk_client, root):
    helpdesk_client.post(_url(root, "change/"), {"username": "root", "email": "evil@example.com"})
    assert User.objects.get(pk=root.pk).email == "root@example.com"
    helpdesk_client.post(_url(root, "delete/"), {"post": "yes"})
    assert User.objects.filter(pk=root.pk).exists()


def test_helpdesk_cannot_make_itself_superuser(helpdesk_client, helpdesk):
    page = helpdesk_client.get(_url(helpdesk, "change/")).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    data = {
        "username": "helpdesk",
        "email": "helpdesk@example.com",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    helpdesk_client.post(_url(helpdesk, "change/"), data)
    helpdesk = User.objects.get(pk=helpdesk.pk)
    assert not helpdesk.is_superuser and not helpdesk.has_perm("auth.delete_user")


def test_a_bulk_action_touching_a_superuser_does_nothing_at_all(helpdesk_client, root, user):
    TOTPDevice.objects.create(user=user, name="alice phone", confirmed=True)
    before = (_factor_state(root), _factor_state(user))
    data = {"action": "reset_second_factor", "_selected_action": [user.pk, root.pk], "confirm": "yes"}
    response = helpdesk_client.post("/admin/auth/user/", data)
    assert response.status_code == 302
    assert (_factor_state(root), _factor_state(user)) == before
    assert any("superuser" in m for m in _messages(response))
    delete = helpdesk_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [root.pk], "post": "yes"}
    )
    assert delete.status_code in (200, 302, 403) and User.objects.filter(pk=root.pk).exists()


@pytest.mark.parametrize("path", ["/admin/auth/user/", "/admin/otp_totp/totpdevice/"])
def test_every_listed_action_is_guarded_and_asked_for_as_django_asks(helpdesk, rf, path):
    import warnings

    import django
    from django.contrib import admin
    from django.urls import resolve

    admin_view = resolve(path).func
    model_admin = admin.site._registry[admin_view.model_admin.model]
    request = rf.get(path)
    request.user = helpdesk
    locations = [None]
    if django.VERSION >= (6, 1):
        from django.contrib.admin.options import ActionLocation

        locations += list(ActionLocation)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for location in locations:
            if location is None:
                actions = model_admin.get_actions(request)
            else:  # as Django 6.1's views ask, for the change list and the change form
                actions = model_admin._get_actions_with_action_location(request, action_location=location)
            for name, action in actions.items():
                func = action[0] if isinstance(action, tuple) else action.func
                assert getattr(func, "__wrapped__", None) is not None, (name, location)  # guard._guarded_action
    # Django 6.1 recognises the signature: no deprecation warning for it (nor for tuple access) from the app.
    assert not [w for w in caught if "mfa_oauth" in str(w.filename)], [str(w.message) for w in caught]
    if path == "/admin/auth/user/":
        assert {"reset_second_factor", "unlock_second_factor"} <= set(model_admin.get_actions(request))


# --- the device admins follow the same rule ---------------------------------------------------


def test_helpdesk_cannot_add_a_known_totp_key_to_a_superuser(helpdesk_client, root):
    data = {"user": root.pk, "name": "planted", "confirmed": "on", "key": RFC4226_SEED_HEX, "step": 30, "t0": 0}
    data.update({"digits": 6, "tolerance": 1, "drift": 0, "throttling_failure_count": 0})
    response = helpdesk_client.post("/admin/otp_totp/totpdevice/add/", data)
    assert response.status_code == 200 and "superuser" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=root, name="planted").exists()


def test_helpdesk_cannot_move_a_device_onto_a_superuser_or_delete_theirs(helpdesk_client, root, user):
    own = TOTPDevice.objects.create(user=user, name="alice phone", key=RFC4226_SEED_HEX, confirmed=True)
    data = {"user": root.pk, "name": "moved", "confirmed": "on", "step": 30, "t0": 0, "digits": 6}
    data.update({"tolerance": 1, "drift": 0, "throttling_failure_count": 0})
    helpdesk_client.post(f"/admin/otp_totp/totpdevice/{own.pk}/change/", data)
    assert TOTPDevice.objects.get(pk=own.pk).user_id == user.pk
    theirs = TOTPDevice.objects.get(user=root)
    helpdesk_client.post(f"/admin/otp_totp/totpdevice/{theirs.pk}/delete/", {"post": "yes"})
    helpdesk_client.post(
        "/admin/otp_totp/totpdevice/", {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"}
    )
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


# --- the operator's own fresh second factor ---------------------------------------------------


@pytest.fixture
def stale_admin(client, db):
    operator = make_staff("boss")
    device = TOTPDevice.objects.create(user=operator, name="boss phone", confirmed=True)
    give_mfa(client, operator, device, age=mfa_settings.FRESH_MFA_WINDOW + 60)
    return client, device


@pytest.mark.parametrize(("suffix", "data"), MFA_ACTIONS)
def test_a_stale_operator_is_sent_to_verify_and_nothing_happens(stale_admin, user, suffix, data, settings):
    client, _device = stale_admin
    TOTPDevice.objects.create(user=user, name="alice phone", confirmed=True)
    UserMFAState.objects.create(user=user, failure_count=5, locked_at=timezone.now())
    before = _factor_state(user)
    for method in ("get", "post"):
        response = getattr(client, method)(_url(user, suffix), data)
        assert response.status_code == 302, (method, response.status_code)
        assert response["Location"].startswith("/mfa/verify/?next=" + _url(user, suffix).replace("/", "%2F"))
    assert _factor_state(user) == before


def test_a_stale_operator_comes_back_and_acts(stale_admin, user):
    client, device = stale_admin
    TOTPDevice.objects.create(user=user, name="alice phone", confirmed=True)
    sent = client.post(_url(user, "mfa/reset/"))
    assert sent["Location"].startswith("/mfa/verify/") and confirmed_devices(user)
    verify_totp(client, device)
    confirm = client.get(_url(user, "mfa/reset/"))
    assert confirm.status_code == 200 and 'id="mfa-question"' in confirm.content.decode()
    assert client.post(_url(user, "mfa/reset/")).status_code == 302
    assert confirmed_devices(user) == []


def test_a_stale_operator_cannot_use_the_bulk_actions_or_device_admins(stale_admin, user):
    client, _device = stale_admin
    device = TOTPDevice.objects.create(user=user, name="alice phone", confirmed=True)
    bulk = client.post(
        "/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [user.pk], "confirm": "yes"}
    )
    assert bulk.status_code == 302 and bulk["Location"].startswith("/mfa/verify/")
    delete = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 302 and delete["Location"].startswith("/mfa/verify/")
    password = client.post(_url(user, "password/"), {"password1": "n3w pass word!", "password2": "n3w pass word!"})
    assert password["Location"].startswith("/mfa/verify/")
    assert TOTPDevice.objects.filter(pk=device.pk).exists() and User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_an_operator_without_a_second_factor_is_sent_to_enroll(client, rf, user):
    # Behind the plain Django admin site (no MFAAdminSite), the operator views still ask.
    from mfa_oauth.operators.guard import operator_step_up

    operator = make_staff("nofactor")
    login(client, operator)  # the password only
    request = rf.get(_url(user, "mfa/reset/"))
    request.user, request.session = operator, client.session
    response = operator_step_up(request)
    assert response is not None and response.status_code == 302
    assert response["Location"].startswith(reverse(mfa_settings.ENROLL_URL) + "?next=")


# --- every HTTP method decided ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch", "delete", "head", "options"])
@pytest.mark.parametrize(("suffix", "data"), MFA_ACTIONS)
def test_other_methods_are_refused(client, user, method, suffix, data, settings):
    operator = make_staff("boss")
    give_mfa(client, operator, TOTPDevice.objects.create(user=operator, name="boss phone", confirmed=True))
    TOTPDevice.objects.create(user=user, name="alice phone", confirmed=True)
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "MAX_FAILED_ATTEMPTS": 2}
    UserMFAState.objects.create(user=user, failure_count=2, locked_at=timezone.now())
    before = _factor_state(user)
    response = getattr(client, method)(_url(user, suffix), data)
    assert response.status_code == 405
    assert _factor_state(user) == before and lockout.is_locked(user)


# --- django-oauth-toolkit's codes and tokens: viewed and revoked, never minted in the admin -----------
@pytest.fixture
def root_client(client, root):
    give_mfa(client, root, TOTPDevice.objects.get(user=root))
    return client


def _live_token(user):
    from datetime import timedelta

    from oauth2_provider.models import get_access_token_model

    return get_access_token_model().objects.create(
        user=user, token="live-token-of-" + user.username, expires=timezone.now() + timedelta(hours=1), scope="openid"
    )


@pytest.mark.parametrize("model", ["accesstoken", "refreshtoken", "idtoken", "grant"])
def test_nobody_adds_a_code_or_token_in_the_admin(root_client, root, helpdesk, model):
    # A token typed into the admin is one no second-factor gate approved (docs/security.md).
    from oauth2_provider.models import get_access_token_model

    before = get_access_token_model().objects.count()
    add_url = reverse(f"admin:oauth2_provider_{model}_add")
    assert root_client.get(add_url).status_code == 403
    response = root_client.post(add_url, {"user": helpdesk.pk, "token": "minted", "scope": "openid"})
    assert response.status_code == 403
    assert get_access_token_model().objects.count() == before


def test_nobody_changes_a_token_in_the_admin_but_it_can_be_revoked(root_client, helpdesk, root):
    # Changing a live token (its user, scope or expiry) would hand out access no gate approved.
    from oauth2_provider.models import get_access_token_model

    token = _live_token(helpdesk)
    change_url = reverse("admin:oauth2_provider_accesstoken_change", args=[token.pk])
    page = root_client.get(change_url)
    assert page.status_code == 200 and b'name="scope"' not in page.content  # read-only
    root_client.post(change_url, {"user": root.pk, "token": token.token, "scope": "openid transfer"})
    token.refresh_from_db()
    assert (token.user_id, token.scope) == (helpdesk.pk, "openid")
    changelist = reverse("admin:oauth2_provider_accesstoken_changelist")
    response = root_client.post(changelist, {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert not get_access_token_model().objects.filter(pk=token.pk).exists()
