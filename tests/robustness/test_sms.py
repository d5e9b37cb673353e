""" "Send me a code" with junk, and Twilio's status webhook with junk and forged signatures."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from mfa_oauth.audit.models import EventKind
from mfa_oauth.sms.models import SMSDevice, SMSMessage

from .helpers import assert_not_5xx, assert_only_failures, audit_counts, audit_delta, device_rows, isolated
from .strategies import junk_params, junk_text, maybe

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "fake-auth-token-" + "0" * 16
PUBLIC_BASE = "https://idp.example.com"
SID = "SM" + "ab" * 16
NUMBER = "+12025550123"


@pytest.fixture
def sms_site(mfa_settings):
    mfa_settings(
        SMS_BACKEND="locmem",
        SMS_ALLOWED_COUNTRIES=("GB", "US"),
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        SMS_PUBLIC_BASE_URL=PUBLIC_BASE,
    )


@pytest.fixture
def phone(user, sms_site, django_user_model):
    own = SMSDevice.objects.create(user=user, name="Phone", number=NUMBER, confirmed=True)
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "x")
    foreign = SMSDevice.objects.create(user=bob, name="Bob", number="+12025550199", confirmed=True)
    return own, foreign


@given(
    requests=st.lists(
        st.tuples(
            st.sampled_from(["own", "foreign", "junk"]),
            junk_params(["action", "token", "next"], valid={"action": "send"}),
            maybe(junk_text()),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_send_me_a_code_junk(user, phone, half_logged_in, requests):
    """Only the user's own number gets a code, at most one per cooldown, one audit row per code."""
    own, foreign = phone
    with isolated(half_logged_in) as client:
        before, rows = audit_counts(), device_rows()
        messages_before = SMSMessage.objects.count()
        for target, form, junk_device in requests:
            device = {"own": own.persistent_id, "foreign": foreign.persistent_id, "junk": junk_device}[target]
            if device is not None:
                form = {**form, "device": device}
            response = client.post("/mfa/verify/?next=/", form)
            assert_not_5xx(response)
            assert response.status_code in (200, 400, 429), response.status_code
        sent = SMSMessage.objects.filter(pk__gt=0).count() - messages_before
        assert not SMSMessage.objects.filter(device=foreign).exists()
        assert sent <= 1  # SMS_COOLDOWN (30 s) holds whatever the form says
        delta = audit_delta(before)
        assert_only_failures(delta, {EventKind.CHALLENGE_SENT, EventKind.MFA_FAILED})
        assert delta[EventKind.CHALLENGE_SENT] == sent
        assert device_rows() == rows
        factors = (client.session.get("mfa_oauth.context") or {}).get("factors", [])
        assert [f["method"] for f in factors] == ["pwd"]


@pytest.fixture
def message(user, phone) -> SMSMessage:
    own, _foreign = phone
    return SMSMessage.objects.create(
        user=user, device=own, to=own.number, status="sent", provider_sid=SID, expires_at=timezone.now()
    )


def webhook_params():
    return junk_params(
        ["MessageSid", "MessageStatus", "AccountSid", "ErrorCode", "To"],
        valid={
            "MessageSid": SID,
            "MessageStatus": "failed",
            "AccountSid": ACCOUNT_SID,
            "ErrorCode": "30003",
            "To": NUMBER,
        },
    )


def snapshot(message: SMSMessage) -> tuple:
    message.refresh_from_db()
    return (message.status, message.error_code, message.error_message, message.provider_sid)


@given(
    params=webhook_params(),
    signature=st.one_of(
        st.none(),
        junk_text(),
        st.sampled_from(["wrong-token", "http-url", "other-params", "other-path"]),
    ),
)
def test_forged_webhook_signatures_change_nothing(client, message, params, signature):
    path = f"/mfa/sms/status/{message.pk}/"
    validator = RequestValidator(AUTH_TOKEN)
    forged = {
        "wrong-token": lambda: RequestValidator("another-token").compute_signature(PUBLIC_BASE + path, params),
        "http-url": lambda: validator.compute_signature("http://idp.example.com" + path, params),
        "other-params": lambda: validator.compute_signature(PUBLIC_BASE + path, {**params, "MessageStatus": "x"}),
        "other-path": lambda: validator.compute_signature(PUBLIC_BASE + f"/mfa/sms/status/{message.pk + 1}/", params),
    }
    header = forged[signature]() if signature in forged else signature
    with isolated(client) as client:
        before = snapshot(message)
        headers = {"X-Twilio-Signature": header} if header is not None else {}
        response = client.post(path, params, headers=headers)
        assert response.status_code == 403, response.status_code
        assert snapshot(message) == before


@given(
    params=webhook_params(),
    message_id=st.one_of(st.just(None), st.integers(0, 10**30)),
)
def test_signed_junk_at_the_webhook(client, message, params, message_id):
    """Genuinely signed (Twilio itself, or a leaked token) but junk: 2xx/4xx, and a row moves only
    forward to a recorded status of its own message."""
    path = f"/mfa/sms/status/{message.pk if message_id is None else message_id}/"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE + path, params)
    with isolated(client) as client:
        before = snapshot(message)
        response = client.post(path, params, headers={"X-Twilio-Signature": signature})
        assert_not_5xx(response)
        assert response.status_code in (200, 400, 403), response.status_code
        after = snapshot(message)
        if after != before:
            assert message_id in (None, message.pk) and params.get("MessageSid") == SID
            assert after[0] in ("delivered", "undelivered", "failed") and params.get("MessageStatus") == after[0]
