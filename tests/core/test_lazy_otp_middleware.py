"""LazyOTPMiddleware: django-otp's verified device is loaded only when is_verified() is asked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa_oauth.otp_middleware import LazyOTPMiddleware

pytestmark = pytest.mark.django_db


class FakeSession(dict):
    modified = False


def run(user, session):
    request = RequestFactory().get("/")
    request.session = session
    request.user = user
    LazyOTPMiddleware(lambda r: None)(request)
    return request


def test_no_query_until_is_verified_is_asked(user):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    request = run(user, FakeSession({DEVICE_ID_SESSION_KEY: device.persistent_id}))
    with CaptureQueriesContext(connection) as queries:
        assert request.user.is_authenticated
        assert request.user.pk == user.pk
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert request.user.is_verified() is True
        assert request.user.is_verified() is True
    assert len(queries) == 1
    assert request.user.otp_device == device


def test_a_deleted_or_unconfirmed_device_no_longer_verifies(user):
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    session = FakeSession({DEVICE_ID_SESSION_KEY: device.persistent_id})
    device.delete()
    request = run(user, session)
    assert request.user.is_verified() is False
    assert DEVICE_ID_SESSION_KEY not in session

    other = TOTPDevice.objects.create(user=user, name="pending", confirmed=False)
    session = FakeSession({DEVICE_ID_SESSION_KEY: other.persistent_id})
    assert run(user, session).user.is_verified() is False


def test_another_users_device_does_not_verify(user, django_user_model):
    stranger = django_user_model.objects.create_user("mallory", password="x")
    device = TOTPDevice.objects.create(user=stranger, name="theirs", confirmed=True)
    assert run(user, FakeSession({DEVICE_ID_SESSION_KEY: device.persistent_id})).user.is_verified() is False


def test_without_a_device_in_the_session_nothing_is_verified(user):
    with CaptureQueriesContext(connection) as queries:
        assert run(user, FakeSession()).user.is_verified() is False
    assert len(queries) == 0
