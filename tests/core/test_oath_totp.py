"""RFC 6238 Appendix B vectors for SHA-1, SHA-256 and SHA-512 through the challenge step's path."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
import time_machine
from django.urls import reverse

from mfa_oauth.totp.models import OATHTOTPDevice, hotp
from tests.oauth import AuthorizationRequest, callback_params, consent, jwt_payload, login, redeem

pytestmark = pytest.mark.django_db

SEEDS = {  # the reference code's seeds (RFC 6238 Appendix A; the prose's 20-byte seed is an erratum)
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, {"sha1": "94287082", "sha256": "46119246", "sha512": "90693936"}),
    (1111111109, {"sha1": "07081804", "sha256": "68084774", "sha512": "25091201"}),
    (1111111111, {"sha1": "14050471", "sha256": "67062674", "sha512": "99943326"}),
    (1234567890, {"sha1": "89005924", "sha256": "91819424", "sha512": "93441116"}),
    (2000000000, {"sha1": "69279037", "sha256": "90698825", "sha512": "38618901"}),
    (20000000000, {"sha1": "65353130", "sha256": "77737706", "sha512": "47863826"}),
]
CASES = [(t, algorithm, codes[algorithm]) for t, codes in VECTORS for algorithm in SEEDS]


def device_for(user, algorithm: str, digits: int = 8) -> OATHTOTPDevice:
    return OATHTOTPDevice.objects.create(
        user=user,
        name=algorithm,
        key=SEEDS[algorithm].hex(),
        algorithm=algorithm,
        digits=digits,
        tolerance=0,
        confirmed=True,
    )


@pytest.mark.parametrize(("unix_time", "algorithm", "code"), CASES)
def test_rfc6238_vectors(user, unix_time, algorithm, code):
    device = device_for(user, algorithm)
    with time_machine.travel(datetime.fromtimestamp(unix_time, tz=timezone.utc), tick=False):
        assert device.verify_token(code)
        assert not device.verify_token(code)  # the same step again: replay
        device.throttle_reset()
        assert not device.verify_token(code[-6:])  # an 8-digit device wants 8 digits


@pytest.mark.parametrize(("unix_time", "algorithm", "code"), CASES)
def test_six_digit_codes_are_the_last_six(user, unix_time, algorithm, code):
    device = device_for(user, algorithm, digits=6)
    with time_machine.travel(datetime.fromtimestamp(unix_time, tz=timezone.utc), tick=False):
        assert device.verify_token(code[-6:])


def test_hotp_matches_rfc4226_for_sha1():
    expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489]
    assert [hotp(SEEDS["sha1"], c, 6) for c in range(10)] == expected


@time_machine.travel("2026-06-01 12:00:00Z", tick=False)
def test_window_and_older_step_after_newer(user):
    device = device_for(user, "sha256", digits=6)
    device.tolerance = 1
    device.save()
    now = int(datetime(2026, 6, 1, 12, tzinfo=timezone.utc).timestamp()) // 30

    def code(t):
        return f"{hotp(device.bin_key, t, 6, __import__('hashlib').sha256):06d}"

    assert not device.verify_token(code(now - 2))
    device.throttle_reset()
    assert device.verify_token(code(now))
    assert not device.verify_token(code(now - 1))  # older than the step already used


@time_machine.travel("2026-06-01 12:00:00Z", tick=False)
def test_sha256_token_at_the_challenge_step_through_oauth(client, application, user):
    import hashlib

    device = device_for(user, "sha256", digits=6)
    now = int(datetime(2026, 6, 1, 12, tzinfo=timezone.utc).timestamp()) // 30
    request = AuthorizationRequest()
    login(client, next_url=request.url())
    response = client.post(
        reverse("mfa_oauth:verify") + "?" + urlencode({"next": request.url()}),
        {
            "device": device.persistent_id,
            "token": f"{hotp(device.bin_key, now, 6, hashlib.sha256):06d}",
            "next": request.url(),
        },
    )
    assert response.status_code == 303
    params = callback_params(consent(client, request))
    claims = jwt_payload(redeem(client, params["code"], request).json()["id_token"])
    assert set(claims["amr"]) == {"pwd", "otp", "mfa"}


def test_admin_enrolls_a_sha512_token_and_never_shows_the_secret_again(client, user, django_user_model):
    from tests.conftest import pass_second_factor

    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    pass_second_factor(client, admin)
    add = reverse("admin:mfa_oauth_oathtotpdevice_add")
    response = client.post(
        add,
        {
            "user": user.pk,
            "name": "Vendor token",
            "confirmed": "on",
            "key": SEEDS["sha512"].hex(),
            "algorithm": "sha512",
            "digits": 8,
            "step": 30,
            "t0": 0,
            "tolerance": 1,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    device = OATHTOTPDevice.objects.get(user=user)
    change = client.get(reverse("admin:mfa_oauth_oathtotpdevice_change", args=[device.pk]))
    assert change.status_code == 200 and SEEDS["sha512"].hex() not in change.content.decode()
    bad = client.post(
        add,
        {
            "user": user.pk,
            "name": "x",
            "key": "zz",
            "algorithm": "sha256",
            "digits": 6,
            "step": 30,
            "t0": 0,
            "tolerance": 1,
        },
    )
    assert bad.status_code == 200 and OATHTOTPDevice.objects.count() == 1
