"""The challenge step (/mfa/verify/) for a half-logged-in user, with junk device ids, codes,
actions, ``next``, ``level`` and ``methods``: never a 5xx, never a second factor for junk, the
lockout counter and the audit log always telling the same story."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.test import Client
from django_otp.oath import hotp
from django_otp.plugins.otp_hotp.models import HOTPDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from mfa_oauth import lockout
from mfa_oauth.audit.models import EventKind
from mfa_oauth.backup_codes import flows as backup_flows
from mfa_oauth.context import SESSION_KEY as CONTEXT_KEY
from mfa_oauth.models import UserMFAState
from tests.conftest import totp_for

from .helpers import (
    assert_not_5xx,
    assert_only_failures,
    assert_same_site,
    audit_counts,
    audit_delta,
    device_rows,
    isolated,
)
from .strategies import junk_text, maybe

pytestmark = pytest.mark.django_db

VERIFY = "/mfa/verify/"


@pytest.fixture
def factors(user, totp_device, django_user_model):
    """alice with a TOTP app, a hardware HOTP token and backup codes; bob with a TOTP app of his own."""
    hotp_device = HOTPDevice.objects.create(user=user, name="token", confirmed=True)
    backup_flows.generate(user)
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "bob-password")
    foreign = TOTPDevice.objects.create(user=bob, name="bob's phone", confirmed=True)
    return {"totp": totp_device, "hotp": hotp_device, "foreign": foreign}


def genuine_codes(factors) -> set[str]:
    """Every code that would be accepted right now (TOTP window, HOTP look-ahead)."""
    totp = totp_for(factors["totp"])
    now = time.time()
    codes = {totp.at(now + 30 * k) for k in range(-3, 4)}
    device = factors["hotp"]
    codes |= {f"{hotp(device.bin_key, device.counter + k, digits=device.digits):0{device.digits}d}" for k in range(50)}
    return codes


def second_factors(client: Client) -> list[dict]:
    context = client.session.get(CONTEXT_KEY) or {}
    return [f for f in context.get("factors", []) if f.get("method") != "pwd"]


def device_choice(factors):
    own = [d.persistent_id for k, d in factors.items() if k != "foreign"]
    mangled = [own[0] + "0", own[0].replace("/", "//"), "otp_totp.totpdevice/-1", "auth.user/1", "otp_totp.totpdevice/"]
    return st.one_of(
        st.sampled_from([*own, factors["foreign"].persistent_id, *mangled]),
        junk_text(),
        st.none(),
    )


def tokens():
    six_digits = st.integers(0, 99_999_999).map(lambda n: f"{n:06d}")
    return st.one_of(junk_text(), six_digits, st.from_regex(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", fullmatch=True))


@given(data=st.data())
def test_junk_at_the_challenge_step_never_completes_it(user, factors, half_logged_in, data):
    form = {
        "device": data.draw(device_choice(factors), "device"),
        "token": data.draw(maybe(tokens()), "token"),
        "action": data.draw(maybe(st.one_of(st.sampled_from(["verify", "send"]), junk_text(20))), "action"),
        "next": data.draw(maybe(junk_text()), "next"),
    }
    form = {k: v for k, v in form.items() if v is not None}
    query = {
        k: v
        for k, v in {
            "next": data.draw(maybe(junk_text()), "query next"),
            "level": data.draw(maybe(st.one_of(junk_text(), st.integers(-5, 12).map(str))), "level"),
            "methods": data.draw(
                maybe(st.one_of(junk_text(), st.sampled_from(["totp", "hotp,backup_code", ",,,"]))), "methods"
            ),
        }.items()
        if v is not None
    }
    method = data.draw(st.sampled_from(["get", "post"]), "method")
    token = str(form.get("token", "")).replace(" ", "").replace("-", "")
    assume(token not in genuine_codes(factors))

    with isolated(half_logged_in) as client:
        before, rows = audit_counts(), device_rows()
        count_before = lockout.failure_count(user)
        if method == "get":
            response = client.get(VERIFY, {**query, **form})
        else:
            response = client.post(VERIFY + "?" + urlencode(query), form)
        assert_not_5xx(response)
        assert response.status_code in (200, 302, 400, 403, 429), response.status_code
        if response.has_header("Location"):
            assert_same_site(response["Location"])
        assert second_factors(client) == [], "junk completed the second factor"
        delta = audit_delta(before)
        assert_only_failures(delta)
        # Each counted attempt is one failure row, and nothing else moves the counter.
        assert lockout.failure_count(user) - count_before == delta[EventKind.MFA_FAILED]
        assert delta[EventKind.MFA_FAILED] <= 1 and delta[EventKind.LOCKED] == 0
        assert device_rows() == rows


@given(data=st.data())
@settings(max_examples=20)  # up to eight requests per example
def test_lockout_counter_matches_the_audit_log_over_a_sequence(
    user, factors, half_logged_in, settings, mfa_settings, data
):
    """Up to seven junk or wrong attempts in a row (django-otp's back-off switched off so the
    per-user cap of 3 is reachable), then the genuine code: it works exactly when the user is not
    locked, and the counter, the lock and the audit rows agree throughout."""
    for name in ("OTP_TOTP_THROTTLE_FACTOR", "OTP_HOTP_THROTTLE_FACTOR", "OTP_BACKUP_CODE_THROTTLE_FACTOR"):
        setattr(settings, name, 0)
    cap = 3
    mfa_settings(MAX_FAILED_ATTEMPTS=cap)
    attempts = data.draw(st.lists(st.tuples(device_choice(factors), tokens()), min_size=1, max_size=7), "attempts")
    valid = genuine_codes(factors)
    assume(all(t.replace(" ", "").replace("-", "") not in valid for _d, t in attempts))

    with isolated(half_logged_in) as client:
        before = audit_counts()
        for device, token in attempts:
            form = {"device": device, "token": token} if device is not None else {"token": token}
            response = client.post(VERIFY + "?next=/", form)
            assert_not_5xx(response)
            assert response.status_code in (200, 400, 403), response.status_code
            assert second_factors(client) == []
        count = lockout.failure_count(user)
        delta = audit_delta(before)
        assert_only_failures(delta)
        assert count == delta[EventKind.MFA_FAILED] <= cap
        locked = count >= cap
        event(f"locked={locked}")
        assert delta[EventKind.LOCKED] == (1 if locked else 0)
        state = UserMFAState.objects.filter(user=user).first()
        assert (state is not None and state.locked_at is not None) == locked

        totp = factors["totp"]
        response = client.post(VERIFY + "?next=/", {"device": totp.persistent_id, "token": totp_for(totp).now()})
        delta = audit_delta(before)
        if locked:
            assert response.status_code == 403
            assert second_factors(client) == [] and delta[EventKind.MFA_SUCCEEDED] == 0
            assert lockout.failure_count(user) == cap  # a locked user's code is not even counted
        else:
            assert response.status_code == 303 and response["Location"] == "/"
            assert [f["method"] for f in second_factors(client)] == ["totp"]
            assert delta[EventKind.MFA_SUCCEEDED] == 1
            assert lockout.failure_count(user) == 0
