"""RFC 6238 / RFC 4226 test vectors through the verification path the challenge step uses."""

from __future__ import annotations

from datetime import datetime, timezone

import pyotp
import pytest
import time_machine
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

SEED_SHA1 = b"12345678901234567890"
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


@pytest.mark.parametrize(("unix_time", "code"), RFC6238_SHA1)
def test_rfc6238_sha1_vectors(user, unix_time, code):
    device = TOTPDevice.objects.create(user=user, key=SEED_SHA1.hex(), digits=8, tolerance=0, confirmed=True)
    with time_machine.travel(datetime.fromtimestamp(unix_time, tz=timezone.utc), tick=False):
        assert device.verify_token(code)
        assert not device.verify_token(code)  # the same step twice: replay


@pytest.mark.parametrize(("unix_time", "code"), RFC6238_SHA1)
def test_rfc6238_six_digit_codes_are_the_last_six_digits(user, unix_time, code):
    device = TOTPDevice.objects.create(user=user, key=SEED_SHA1.hex(), tolerance=0, confirmed=True)
    with time_machine.travel(datetime.fromtimestamp(unix_time, tz=timezone.utc), tick=False):
        assert device.verify_token(code[-6:])


def test_rfc4226_vectors_in_order(user):
    device = HOTPDevice.objects.create(user=user, key=SEED_SHA1.hex(), tolerance=0, confirmed=True)
    for code in RFC4226:
        assert device.verify_token(code), code
    device.refresh_from_db()
    assert device.counter == 10


def test_pyotp_agrees_with_the_stored_key(totp_device):
    from tests.conftest import totp_for

    with time_machine.travel("2030-05-05 05:05:05Z", tick=False):
        assert totp_for(totp_device).now() == pyotp.TOTP(totp_for(totp_device).secret).now()
        assert totp_device.verify_token(totp_for(totp_device).now())


def test_enrolled_seeds_are_long_random_and_distinct(user):
    keys = {TOTPDevice.objects.create(user=user, name=str(i)).bin_key for i in range(200)}
    assert len(keys) == 200
    assert all(len(key) >= 20 for key in keys)
