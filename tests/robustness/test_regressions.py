"""Minimal examples of the bugs the robustness suite found, kept as plain tests."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD, REDIRECT_URI
from tests.oauth import AuthorizationRequest, login, pass_totp

from .helpers import assert_no_credentials_in, query_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("signed_in", [False, True])
def test_max_age_of_more_than_4300_digits_is_not_a_500(client, application, totp_device, signed_in):
    # Was: int() refuses strings of more than 4300 digits (ValueError) -> 500 at /o/authorize/.
    if signed_in:
        login(client)
        pass_totp(client, totp_device)
    response = client.get(AuthorizationRequest().url(max_age="9" * 5000))
    assert response.status_code < 500
    location = response.get("Location", "")
    assert_no_credentials_in(location)
    if location.startswith(REDIRECT_URI):
        assert "error" in query_of(location)
    elif signed_in:
        assert response.status_code == 200  # no limit at all: the consent page


def test_max_age_with_leading_zeros_is_read_as_its_value(client, application, totp_device):
    login(client)
    pass_totp(client, totp_device)
    response = client.get(AuthorizationRequest().url(max_age="0" * 5000))
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == "/accounts/login/"  # max_age=0: log in again


@pytest.mark.parametrize("literal", ["1e400", "-1e400"])
def test_webauthn_options_with_an_infinite_level_is_not_a_500(client, user, literal):
    # Was: JSON 1e400 parses as float("inf"); int(inf) raises OverflowError -> 500.
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    body = f'{{"level": {literal}}}'.encode()
    response = client.post("/mfa/webauthn/authenticate/options/", body, content_type="application/json")
    assert response.status_code < 500


@pytest.mark.parametrize("endpoint", ["/o/token/", "/o/introspect/", "/o/revoke_token/"])
@pytest.mark.parametrize("credentials", ["\x80", "Ã©"])  # header bytes 0x80 / UTF-8 "é", as WSGI hands them over
def test_non_ascii_basic_client_authentication_is_not_a_500(client, application, endpoint, credentials):
    # Was: DOT's _authenticate_basic_auth calls base64.b64decode() on non-ASCII text: ValueError -> 500.
    response = client.post(
        endpoint, {"grant_type": "client_credentials", "token": "x"}, headers={"Authorization": f"Basic {credentials}"}
    )
    assert response.status_code in (400, 401, 403)


def test_admin_hotp_enrollment_with_a_counter_past_64_bits_is_not_a_500(client, user, django_user_model):
    # Was: the form took any counter >= 0; the INSERT of 2**63 or more failed (OverflowError) -> 500.
    from tests.conftest import pass_second_factor

    staff = django_user_model.objects.create_superuser("root", "root@example.com", "root-password")
    pass_second_factor(client, staff)
    form = {"secret": "3132333435363738393031323334353637383930", "counter": str(2**63), "digits": "6", "name": "t"}
    response = client.post(f"/admin/auth/user/{user.pk}/mfa/enroll/hotp/", form)
    assert response.status_code == 200  # the form again, with the counter's error
    assert not user.hotpdevice_set.exists()


@pytest.mark.parametrize(
    ("method", "endpoint", "form"),
    [
        ("post", "/o/token/", {"grant_type": "authorization_code", "code": "x", "client_id": "\x00"}),
        ("post", "/o/token/", {"grant_type": "refresh_token", "refresh_token": "a\x00b", "client_id": "rp"}),
        ("post", "/o/revoke_token/", {"token": " ", "client_id": "\x00"}),
        ("get", "/o/introspect/", {"token": "x", "client_id": "\x00"}),
        ("post", "/o/device-authorization/", {"client_id": "\x00"}),
    ],
)
def test_a_nul_character_at_a_back_channel_endpoint_is_invalid_request(client, application, method, endpoint, form):
    # Was (PostgreSQL only): psycopg refuses NUL in a text parameter (DataError) -> 500.
    response = getattr(client, method)(endpoint, form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_character_at_the_authorization_endpoint_is_a_400_page_not_a_redirect(client, application, method):
    params = {"response_type": "code", "client_id": "\x00", "redirect_uri": REDIRECT_URI, "allow": "Authorize"}
    response = getattr(client, method)("/o/authorize/", params)
    assert response.status_code == 400 and "Location" not in response
    assert b"NUL" in response.content


def test_a_nul_character_in_a_bearer_token_is_invalid_request(client):
    response = client.get("/o/userinfo/", headers={"Authorization": "Bearer a\x00b"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("endpoint", ["/o/token/", "/o/introspect/", "/o/revoke_token/"])
def test_a_nul_character_in_basic_credentials_is_not_a_500(client, application, endpoint):
    # Was (PostgreSQL only): "Basic ADo0" decodes to client id "\x00" -> DataError -> 500.
    response = client.post(
        endpoint, {"grant_type": "client_credentials", "token": "x"}, headers={"Authorization": "Basic ADo0"}
    )
    assert response.status_code in (400, 401, 403)


@pytest.mark.parametrize("method", ["get", "post"])
def test_rp_initiated_logout_with_an_unknown_client_is_an_error_page(client, application, method):
    # Was: DOT 3.4.1 looks the client up with .get(): Application.DoesNotExist -> 500.
    response = getattr(client, method)("/o/logout/", {"client_id": "no-such-client", "allow": "Yes"})
    assert response.status_code == 400
