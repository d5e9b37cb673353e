"""HOTP hardware tokens (django-otp's otp_hotp): RFC 4226 vectors, the bounded look-ahead window,
resynchronisation, replay, the challenge step and admin enrollment by secret."""

from __future__ import annotations

import base64

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.oath import hotp
from django_otp.plugins.otp_hotp.models import HOTPDevice

from mfa_oauth.context import AuthContext
from tests.conftest import PASSWORD
from tests.oauth import declining_the_offer

# RFC 4226 Appendix D: secret "12345678901234567890" (ASCII), HOTP values for counters 0-9.
RFC_SECRET_HEX = b"12345678901234567890".hex()
RFC_VECTORS = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489]


@pytest.fixture(autouse=True)
def no_throttle(settings):
    # django-otp's back-off would refuse even a right code for a second after a wrong one.
    settings.OTP_HOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def token(user):
    return HOTPDevice.objects.create(user=user, name="Token 1", key=RFC_SECRET_HEX, tolerance=3, confirmed=True)


def code(counter: int, digits: int = 6, key_hex: str = RFC_SECRET_HEX) -> str:
    """An independent HOTP implementation (pyotp) computes the code the token would show."""
    secret = base64.b32encode(bytes.fromhex(key_hex)).decode()
    return pyotp.HOTP(secret, digits=digits).at(counter)


def fresh(device: HOTPDevice) -> HOTPDevice:
    return HOTPDevice.objects.get(pk=device.pk)


def test_rfc4226_vectors_by_two_implementations():
    key = bytes.fromhex(RFC_SECRET_HEX)
    assert [hotp(key, counter) for counter in range(10)] == RFC_VECTORS
    assert [int(code(counter)) for counter in range(10)] == RFC_VECTORS


def test_the_device_accepts_the_vectors_in_sequence(token):
    token.tolerance = 0
    token.save()
    for counter, value in enumerate(RFC_VECTORS):
        device = fresh(token)
        assert device.verify_token(f"{value:06d}"), counter
        assert fresh(token).counter == counter + 1


def test_look_ahead_window_and_resynchronisation(token):
    # The token was pressed 3 times without use: a code 3 ahead is inside tolerance=3.
    assert fresh(token).verify_token(code(3))
    assert fresh(token).counter == 4  # resynchronised to the token
    # Codes the server skipped are now behind the counter and refused.
    assert not fresh(token).verify_token(code(1))
    assert not fresh(token).verify_token(code(2))
    assert fresh(token).verify_token(code(4))
    # 4 presses ahead of counter 5 is outside the window: refused, and the counter does not move.
    assert not fresh(token).verify_token(code(9))
    assert fresh(token).counter == 5


def test_a_used_counter_is_never_accepted_again(token):
    assert fresh(token).verify_token(code(0))
    assert not fresh(token).verify_token(code(0))
    assert fresh(token).counter == 1


def test_the_look_ahead_window_is_bounded(token, settings):
    HOTPDevice.objects.filter(pk=token.pk).update(tolerance=1000)  # e.g. written by a shell script
    assert fresh(token).tolerance == 10  # MFA_OAUTH["HOTP_MAX_TOLERANCE"]
    assert not fresh(token).verify_token(code(50))
    assert fresh(token).verify_token(code(10))
    settings.MFA_OAUTH = {**settings.MFA_OAUTH, "HOTP_MAX_TOLERANCE": 2}
    device = HOTPDevice.objects.create(user=token.user, key=RFC_SECRET_HEX, tolerance=9)
    assert fresh(device).tolerance == 2


def test_eight_digit_tokens(user):
    device = HOTPDevice.objects.create(user=user, key=RFC_SECRET_HEX, digits=8, confirmed=True)
    assert fresh(device).verify_token(code(0, digits=8))


# --- the challenge step ------------------------------------------------------------------------


def _login(client) -> None:
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302


def test_hotp_at_the_challenge_step(client, token):
    _login(client)
    page = client.get(reverse("mfa_oauth:verify")).content.decode()
    assert token.persistent_id in page and "Hardware token" in page
    response = client.post(reverse("mfa_oauth:verify"), {"device": token.persistent_id, "token": code(2)})
    assert response.status_code == 303
    context = AuthContext.from_dict(client.session["mfa_oauth.context"])
    assert context.amr == ["pwd", "otp", "hwk", "mfa"]
    assert context.acr == "urn:mfa_oauth:acr:mfa"  # an OTP is not phishing-resistant
    assert fresh(token).counter == 3


def test_replay_at_the_challenge_step_is_refused(client, token):
    _login(client)
    used = code(0)
    assert client.post(reverse("mfa_oauth:verify"), {"device": token.persistent_id, "token": used}).status_code == 303
    client.logout()
    _login(client)
    response = client.post(reverse("mfa_oauth:verify"), {"device": token.persistent_id, "token": used})
    assert response.status_code == 200 and b"did not work" in response.content
    assert AuthContext.from_dict(client.session["mfa_oauth.context"]).amr == ["pwd"]


def test_hotp_does_not_satisfy_a_phishing_resistant_request(client, token, application):
    _login(client)
    client.post(reverse("mfa_oauth:verify"), {"device": token.persistent_id, "token": code(0)})
    response = client.get(
        "/o/authorize/?response_type=code&client_id=rp&redirect_uri=https://rp.example/cb&scope=openid"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&acr_values=phr"
    )
    assert "error=unmet_authentication_requirements" in declining_the_offer(response)["Location"]


# --- admin enrollment by secret ----------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    from tests.conftest import pass_second_factor

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    pass_second_factor(client, admin)  # the admin site asks staff for a second factor
    return client


def _add(admin_client, user, **fields):
    data = {
        "user": user.pk,
        "name": "Vendor token 0042",
        "confirmed": "on",
        "key": RFC_SECRET_HEX,
        "digits": 6,
        "tolerance": 5,
        "counter": 0,
        "throttling_failure_count": 0,
        **fields,
    }
    return admin_client.post(reverse("admin:otp_hotp_hotpdevice_add"), data)


def test_admin_enrolls_a_token_by_its_secret(admin_client, user):
    assert admin_client.get(reverse("admin:otp_hotp_hotpdevice_add")).status_code == 200
    response = _add(admin_client, user, key=" ".join([RFC_SECRET_HEX[:20], RFC_SECRET_HEX[20:]]).upper())
    assert response.status_code == 302, response.content.decode()[:2000]
    device = HOTPDevice.objects.get()
    assert device.key == RFC_SECRET_HEX and device.user == user and device.confirmed
    assert fresh(device).verify_token(code(0))
    # django-otp's own admin views still work under our admin; the QR code of a stored secret is never
    # shown again (OTP_ADMIN_HIDE_SENSITIVE_DATA; RFC 6238 §5.1: keys stay protected).
    assert admin_client.get(reverse("admin:otp_hotp_hotpdevice_changelist")).status_code == 200
    qr = admin_client.get(reverse("admin:otp_hotp_hotpdevice_qrcode", args=[device.pk]))
    assert qr.status_code == 403


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"tolerance": 50}, "At most 10"),
        ({"key": "3132"}, "too short"),
        ({"key": "zz" * 20}, "hexadecimal"),
    ],
)
def test_admin_refuses_unsafe_tokens(admin_client, user, fields, message):
    response = _add(admin_client, user, **fields)
    assert response.status_code == 200 and message in response.content.decode()
    assert not HOTPDevice.objects.exists()
