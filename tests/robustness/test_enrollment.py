"""Adding a factor with junk: TOTP confirmation, an SMS number (phonenumbers parsing), WebAuthn
registration and assertion bodies, and the security page's rename/remove. Never a 5xx, never a
confirmed device or a "factor added" row for junk, never more than one pending device."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mfa_oauth.audit.models import EventKind
from mfa_oauth.sms.models import SMSDevice
from mfa_oauth.webauthn.models import WebAuthnCredential
from tests.conftest import PASSWORD, pass_second_factor, totp_for
from tests.webauthn.soft_authenticator import SoftAuthenticator, b64url

from .helpers import (
    assert_not_5xx,
    assert_only_failures,
    assert_same_site,
    audit_counts,
    audit_delta,
    device_rows,
    isolated,
)
from .strategies import json_values, junk_b64, junk_text, webauthn_body

pytestmark = pytest.mark.django_db

ENROLL_TOTP = "/mfa/enroll/totp/"
SMS_ADD = "/mfa/sms/add/"
RP_ID, ORIGIN = "localhost", "http://localhost:8000"


def password_only(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def newcomer(user) -> Client:
    """alice, signed in with her password and no factor yet: she may add one without a step-up."""
    return password_only(user)


def assert_nothing_half_created(user, rows_before: dict) -> None:
    rows = device_rows(user)
    for label, (confirmed, unconfirmed) in rows.items():
        assert confirmed == rows_before[label][0], f"junk confirmed a {label}"
        assert unconfirmed <= max(1, rows_before[label][1]), f"pending {label} rows pile up: {unconfirmed}"


@given(
    steps=st.lists(
        st.one_of(
            st.just(("get", {})),
            st.tuples(
                st.just("post"),
                st.fixed_dictionaries({}, optional={"token": junk_text(), "next": junk_text(), "name": junk_text()}),
            ),
        ),
        min_size=1,
        max_size=3,
    )
)
@settings(max_examples=15)  # every page draws a QR code (pure Python, slow)
def test_totp_enrollment_with_junk_codes(user, newcomer, steps):
    with isolated(newcomer) as client:
        before, rows = audit_counts(), device_rows(user)
        for method, form in steps:
            pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
            if pending is not None and "token" in form:
                genuine = {totp_for(pending).at(t) for t in _around_now()}
                assume(form["token"].replace(" ", "").replace("-", "") not in genuine)
            response = client.get(ENROLL_TOTP) if method == "get" else client.post(ENROLL_TOTP, form)
            assert_not_5xx(response)
            # 429: django-otp's throttle after a well-formed wrong code, when the next one comes within
            # its delay (1 s, 2 s, ...); an answer with Retry-After, not a failure of the page.
            assert response.status_code in (200, 400, 429), response.status_code
            if response.status_code == 429:
                assert int(response["Retry-After"]) >= 1
            assert_nothing_half_created(user, rows)
        assert_only_failures(audit_delta(before), set())


def _around_now() -> list[float]:
    import time

    now = time.time()
    return [now + 30 * k for k in range(-2, 3)]


def phone_numbers():
    valid = st.sampled_from(["+12025550123", "+1 (202) 555-0124", "+447700900123", "+33612345678", "+1 900 555 1234"])
    digits = st.from_regex(r"\+?[0-9 ()\-.]{1,30}", fullmatch=True)
    return st.one_of(valid, valid, digits, junk_text())


@given(
    send=st.fixed_dictionaries(
        {"number": phone_numbers()},
        optional={"name": junk_text(), "action": st.one_of(st.just("send"), junk_text(20)), "next": junk_text()},
    ),
    confirm=st.lists(
        st.fixed_dictionaries(
            {"action": st.just("verify")},
            optional={"token": junk_text(), "next": junk_text(), "number": phone_numbers()},
        ),
        max_size=3,
    ),
)
@settings(max_examples=20)  # up to four requests per example
def test_sms_number_junk(user, newcomer, mfa_settings, send, confirm):
    """A number (valid or junk) then up to three junk codes: a pending number at most, never a
    confirmed one, and the only audit rows the "code sent" ones."""
    mfa_settings(SMS_BACKEND="locmem", SMS_ALLOWED_COUNTRIES=("GB", "US"), SMS_COOLDOWN=0)
    with isolated(newcomer) as client:
        before, rows = audit_counts(), device_rows(user)
        for form in (send, *confirm):
            response = client.post(SMS_ADD, form)
            assert_not_5xx(response)
            assert response.status_code in (200, 400, 429), response.status_code
            assert_nothing_half_created(user, rows)
        for device in SMSDevice.objects.filter(user=user):
            assert device.number.startswith("+") and device.number[1:].isdigit()  # E.164 only
        # A valid number gets a code sent: that is a challenge, not a factor.
        delta = audit_delta(before)
        assert_only_failures(delta, {EventKind.CHALLENGE_SENT})
        assert delta[EventKind.CHALLENGE_SENT] <= 1


# --- WebAuthn ------------------------------------------------------------------------------------
@pytest.fixture
def webauthn_site(mfa_settings):
    mfa_settings(WEBAUTHN_RP_ID=RP_ID, WEBAUTHN_ORIGINS=[ORIGIN])


_AUTHENTICATORS: dict[int, SoftAuthenticator] = {}


@pytest.fixture
def authenticator_of():
    return lambda credential: _AUTHENTICATORS[credential.pk]


@pytest.fixture
def key_holder(user, webauthn_site):
    """alice with one registered security key, signed in again with her password only."""
    authenticator = SoftAuthenticator()
    client = password_only(user)
    options = client.post("/mfa/webauthn/register/options/", {}, content_type="application/json").json()
    credential = authenticator.create(options, ORIGIN)
    response = client.post(
        "/mfa/webauthn/register/verify/", {"credential": credential}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    stored = user.webauthncredential_set.get()
    _AUTHENTICATORS[stored.pk] = authenticator
    return password_only(user), stored


@given(body=webauthn_body(), ask_options=st.booleans())
def test_webauthn_registration_junk(user, newcomer, webauthn_site, body, ask_options):
    with isolated(newcomer) as client:
        before, rows = audit_counts(), device_rows(user)
        if ask_options:
            assert (
                client.post("/mfa/webauthn/register/options/", {}, content_type="application/json").status_code == 200
            )
        response = client.post("/mfa/webauthn/register/verify/", body, content_type="application/json")
        assert_not_5xx(response)
        assert response.status_code in (400, 403), (response.status_code, response.content[:300])
        assert "error" in response.json()
        assert device_rows(user) == rows and not WebAuthnCredential.objects.filter(user=user).exists()
        assert_only_failures(audit_delta(before), set())


def mutations():
    """Replace a few fields of a genuine credential (top level or inside ``response``) with junk."""
    fields = st.sampled_from(
        [
            "id",
            "rawId",
            "type",
            "response",
            "response.clientDataJSON",
            "response.attestationObject",
            "response.authenticatorData",
            "response.signature",
            "response.userHandle",
            "response.transports",
        ]
    )
    return st.dictionaries(fields, st.one_of(junk_b64(), json_values), min_size=1, max_size=3)


def mutate(credential: dict, changes: dict) -> dict:
    credential = {**credential, "response": dict(credential.get("response", {}))}
    for path, value in changes.items():
        if path.startswith("response.") and isinstance(credential["response"], dict):
            credential["response"][path.split(".", 1)[1]] = value
        else:
            credential[path] = value
    return credential


@given(changes=mutations())
def test_webauthn_registration_mutated(user, newcomer, webauthn_site, changes):
    with isolated(newcomer) as client:
        before, rows = audit_counts(), device_rows(user)
        options = client.post("/mfa/webauthn/register/options/", {}, content_type="application/json").json()
        genuine = SoftAuthenticator().create(options, ORIGIN)
        response = client.post(
            "/mfa/webauthn/register/verify/", {"credential": mutate(genuine, changes)}, content_type="application/json"
        )
        assert_not_5xx(response)
        if response.status_code == 201:
            # Accepted only when what changed is outside the attestation: hints (transports), fields
            # that belong to assertions, and id/rawId (the credential id stored is the one in the
            # attested authenticator data, checked below).
            unsigned = {
                "id",
                "rawId",
                "response.transports",
                "response.userHandle",
                "response.authenticatorData",
                "response.signature",
            }
            assert set(changes) <= unsigned, changes
            stored = WebAuthnCredential.objects.get(user=user)
            assert b64url(bytes(stored.credential_id)) == genuine["rawId"]
            assert_only_failures(audit_delta(before), {EventKind.FACTOR_ADDED})
            return
        assert response.status_code == 400, (response.status_code, response.content[:300])
        assert device_rows(user) == rows
        assert_only_failures(audit_delta(before), set())


@given(changes=mutations(), endpoint=st.sampled_from(["authenticate", "passkey"]))
def test_webauthn_assertion_mutated(user, key_holder, authenticator_of, changes, endpoint):
    client, credential = key_holder
    with isolated(client) as client:
        before = audit_counts()
        anonymous = endpoint == "passkey"
        if anonymous:
            client.logout()
        options = client.post(f"/mfa/webauthn/{endpoint}/options/", {}, content_type="application/json").json()
        genuine = authenticator_of(credential).get(options, ORIGIN)
        response = client.post(
            f"/mfa/webauthn/{endpoint}/verify/",
            {"credential": mutate(genuine, changes)},
            content_type="application/json",
        )
        assert_not_5xx(response)
        factors = (client.session.get("mfa_oauth.context") or {}).get("factors", [])
        stored = WebAuthnCredential.objects.get(pk=credential.pk)
        if response.status_code == 200:
            # Only what the signature does not cover may differ: hints, the attestation (unused
            # here), and at the second-factor step the user handle (the session names the user).
            unsigned = {"response.transports", "response.attestationObject"}
            if not anonymous:
                unsigned.add("response.userHandle")
            assert set(changes) <= unsigned, changes
            assert client.session.get(SESSION_KEY) == str(user.pk)
            assert factors[-1]["method"] in ("webauthn", "passkey")
            assert stored.sign_count > credential.sign_count
            return
        assert response.status_code in (400, 401, 403), (response.status_code, changes)
        assert [f["method"] for f in factors] == ([] if anonymous else ["pwd"])
        assert stored.sign_count == credential.sign_count
        assert_only_failures(audit_delta(before), {EventKind.MFA_FAILED, EventKind.CLONE_SUSPECTED})


@given(body=webauthn_body(), ask_options=st.booleans(), endpoint=st.sampled_from(["authenticate", "passkey"]))
def test_webauthn_assertion_junk(key_holder, body, ask_options, endpoint):
    client, credential = key_holder
    with isolated(client) as client:
        before = audit_counts()
        if ask_options:
            client.post(f"/mfa/webauthn/{endpoint}/options/", {}, content_type="application/json")
        response = client.post(f"/mfa/webauthn/{endpoint}/verify/", body, content_type="application/json")
        assert_not_5xx(response)
        assert response.status_code in (400, 401, 403), (response.status_code, response.content[:300])
        factors = (client.session.get("mfa_oauth.context") or {}).get("factors", [])
        assert [f["method"] for f in factors] == ["pwd"]
        stored = WebAuthnCredential.objects.get(pk=credential.pk)
        assert stored.sign_count == credential.sign_count
        assert_only_failures(audit_delta(before), {EventKind.MFA_FAILED})


@given(body=webauthn_body())
def test_passkey_junk_never_signs_in(user, webauthn_site, body):
    with isolated() as client:
        before = audit_counts()
        client.post("/mfa/webauthn/passkey/options/", {}, content_type="application/json")
        response = client.post("/mfa/webauthn/passkey/verify/", body, content_type="application/json")
        assert_not_5xx(response)
        assert response.status_code in (400, 401, 403)
        assert SESSION_KEY not in client.session
        assert_only_failures(audit_delta(before), set())


# --- the security page: rename and remove with junk ids and names ----------------------------------
@pytest.fixture
def verified(user, totp_device) -> Client:
    client = Client()
    pass_second_factor(client, user, totp_device)
    return client


@given(
    persistent_id=st.one_of(
        junk_text(60), st.sampled_from(["otp_totp.totpdevice/999", "auth.user/1", "x/y/z", "%2e%2e"])
    ),
    action=st.sampled_from(["rename", "remove"]),
    form=st.fixed_dictionaries({}, optional={"name": junk_text(), "next": junk_text()}),
    method=st.sampled_from(["get", "post"]),
)
def test_security_page_junk_ids(user, totp_device, verified, django_user_model, persistent_id, action, form, method):
    assume("/" not in persistent_id.strip("/") or persistent_id != totp_device.persistent_id)
    with isolated(verified) as client:
        bob = django_user_model.objects.create_user("bob", "bob@example.com", "x")
        foreign = TOTPDevice.objects.create(user=bob, name="bob's phone", confirmed=True)
        before, rows = audit_counts(), device_rows()
        for target in (persistent_id, foreign.persistent_id):
            url = f"/account/security/factors/{_quote(target)}/{action}/"
            response = getattr(client, method)(url, form)
            assert_not_5xx(response)
            if response.has_header("Location"):
                assert_same_site(response["Location"])
        assert device_rows() == rows
        assert TOTPDevice.objects.get(pk=foreign.pk).name == "bob's phone"
        assert_only_failures(audit_delta(before), set())


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/") or "x"


@given(
    body=st.one_of(junk_text().map(str.encode), st.binary(max_size=200)),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
)
def test_backup_code_download_and_done_with_junk(user, verified, body, content_type):
    """Nothing to download unless a set was just made; junk bodies change nothing. (Generating a set
    is left out: each one hashes ten codes, too slow for many examples.)"""
    with isolated(verified) as client:
        before, rows = audit_counts(), device_rows()
        for path in ("/account/security/backup-codes/download/", "/account/security/backup-codes/done/"):
            response = client.post(path, body, content_type=content_type)
            assert_not_5xx(response)
            assert response.status_code == 303 and response["Location"] == "/account/security/"
        assert device_rows() == rows
        assert_only_failures(audit_delta(before), set())


NUMBER_LITERALS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-0", "0.5", "Infinity", "NaN", "[]"]
options_bodies = st.one_of(
    webauthn_body(),
    st.builds(
        lambda key, literal: f'{{"{key}": {literal}}}'.encode(),
        st.sampled_from(["level", "device"]),
        st.one_of(st.sampled_from(NUMBER_LITERALS), st.integers().map(str), st.floats().map(repr)),
    ),
)


@given(body=options_bodies, endpoint=st.sampled_from(["register", "authenticate", "passkey"]))
def test_webauthn_options_junk(key_holder, body, endpoint):
    """The options endpoints read ``level`` and ``device`` from the body: junk there is a 4xx or
    ignored, never a 5xx, and asking for options changes no credential and writes no audit row."""
    client, credential = key_holder
    with isolated(client) as client:
        before, rows = audit_counts(), device_rows()
        response = client.post(f"/mfa/webauthn/{endpoint}/options/", body, content_type="application/json")
        assert_not_5xx(response)
        assert response.status_code in (200, 400, 403), response.status_code
        assert device_rows() == rows
        assert WebAuthnCredential.objects.get(pk=credential.pk).sign_count == credential.sign_count
        assert_only_failures(audit_delta(before), set())
