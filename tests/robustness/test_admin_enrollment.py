"""The operator's enrollment forms (admin: HOTP token, SMS number, TOTP app) with junk: never a
5xx, a device and its "factor added" row only together, and only for a form the server accepted."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_hotp.models import HOTPDevice
from hypothesis import given
from hypothesis import strategies as st

from mfa_oauth.audit.models import EventKind
from tests.conftest import pass_second_factor

from .helpers import assert_not_5xx, assert_only_failures, audit_counts, audit_delta, device_rows, isolated
from .strategies import junk_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(django_user_model) -> Client:
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "root-password")
    client = Client()
    pass_second_factor(client, staff)
    return client


def numbers():
    return st.one_of(
        st.integers(-(10**30), 10**30).map(str),
        st.sampled_from(["0", "9223372036854775807", "9223372036854775808", "18446744073709551616", "1e3", "-0"]),
        junk_text(),
    )


HOTP_FIELDS = {
    "secret": st.one_of(
        st.sampled_from(["3132333435363738393031323334353637383930", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"]),
        st.text("0123456789abcdefABCDEF", max_size=80),
        junk_text(),
    ),
    "counter": numbers(),
    "digits": st.one_of(st.sampled_from(["6", "8", "7"]), junk_text(10)),
    "name": junk_text(),
}
VALID_HOTP = {"secret": "3132333435363738393031323334353637383930", "counter": "0", "digits": "6", "name": "Token"}


def hotp_forms():
    """A valid form with one to three fields replaced or removed, or every field junk."""
    near_valid = st.lists(st.sampled_from(sorted(HOTP_FIELDS)), min_size=1, max_size=3, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: st.one_of(st.none(), HOTP_FIELDS[k]) for k in keys})
    )
    overridden = near_valid.map(lambda changes: {k: v for k, v in {**VALID_HOTP, **changes}.items() if v is not None})
    return st.one_of(overridden, st.fixed_dictionaries({}, optional=HOTP_FIELDS))


@given(form=hotp_forms())
def test_admin_hotp_enrollment_junk(user, operator, form):
    with isolated(operator) as client:
        before, rows = audit_counts(), device_rows(user)
        response = client.post(f"/admin/auth/user/{user.pk}/mfa/enroll/hotp/", form)
        assert_not_5xx(response)
        delta = audit_delta(before)
        if response.status_code == 302:  # accepted: one confirmed token, announced once
            assert delta == {EventKind.FACTOR_ADDED: 1}
            device = HOTPDevice.objects.get(user=user)
            assert device.counter == int(form["counter"]) and device.digits == int(form["digits"])
            return
        assert response.status_code == 200, response.status_code  # the form with its errors
        assert device_rows(user) == rows
        assert_only_failures(delta, set())


@given(
    number=st.one_of(st.sampled_from(["+12025550123", "+447700900123", "+33612345678"]), junk_text()), name=junk_text()
)
def test_admin_sms_enrollment_junk(user, operator, mfa_settings, number, name):
    mfa_settings(SMS_BACKEND="locmem", SMS_ALLOWED_COUNTRIES=("GB", "US"))
    with isolated(operator) as client:
        before, rows = audit_counts(), device_rows(user)
        response = client.post(f"/admin/auth/user/{user.pk}/mfa/enroll/sms/", {"number": number, "name": name})
        assert_not_5xx(response)
        delta = audit_delta(before)
        after = device_rows(user)["mfa_oauth_sms.smsdevice"]
        if response.status_code == 302:  # stored unverified, announced once
            assert after == (rows["mfa_oauth_sms.smsdevice"][0], rows["mfa_oauth_sms.smsdevice"][1] + 1)
            assert delta == {EventKind.FACTOR_ADDED: 1}
            return
        assert response.status_code == 200 and device_rows(user) == rows
        assert_only_failures(delta, set())


@given(
    object_id=st.one_of(junk_text(40), st.integers(-5, 10**30).map(str)),
    suffix=st.sampled_from(["enroll/totp/", "enroll/hotp/", "enroll/sms/", "unlock/", "reset/", "backup-codes/"]),
)
def test_admin_actions_on_junk_user_ids(user, operator, object_id, suffix):
    from urllib.parse import quote

    with isolated(operator) as client:
        before, rows = audit_counts(), device_rows()
        response = client.post(
            f"/admin/auth/user/{quote(object_id, safe='') or 'x'}/mfa/{suffix}", {"nonce": "x", "name": "n"}
        )
        assert_not_5xx(response)
        # An id that names a real account (alice, or the operator: on PostgreSQL the pks keep
        # counting across tests, so a small generated integer can be the operator's own) acts on it.
        if not any(_names(object_id, pk) for pk in (user.pk, operator_user_pk(operator))):
            assert device_rows() == rows
            assert_only_failures(audit_delta(before), set())


def _names(object_id: str, pk: int) -> bool:
    """Whether the admin resolves ``object_id`` to ``pk`` (int() also reads " 01", "+1", "１")."""
    try:
        return int(object_id) == pk
    except ValueError:
        return False


def operator_user_pk(operator) -> int:
    from django.contrib.auth import SESSION_KEY

    return int(operator.session[SESSION_KEY])
