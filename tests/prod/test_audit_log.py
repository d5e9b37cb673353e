"""Audit events as structured (JSON) log lines, with no code, password or seed in them."""

from __future__ import annotations

import json
import logging

import pytest

from idp_site.ops.logs import JSONFormatter
from tests.conftest import PASSWORD, totp_for


def test_json_formatter_keeps_extra_fields_and_drops_the_request():
    record = logging.makeLogRecord(
        {"name": "mfa_oauth.audit", "levelno": 20, "levelname": "INFO", "msg": "audit %s", "args": ("x",)}
    )
    record.event = "second_factor_failed"
    record.failure_count = 3
    record.request = object()
    line = JSONFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "audit x" and entry["logger"] == "mfa_oauth.audit"
    assert entry["event"] == "second_factor_failed" and entry["failure_count"] == 3
    assert "request" not in entry and "\n" not in line


@pytest.mark.django_db
def test_login_and_second_factor_steps_are_logged_without_secrets(client, user, totp_device, caplog, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    caplog.set_level(logging.INFO, logger="mfa_oauth.audit")
    assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    good = totp_for(totp_device).now()
    wrong = "000000" if good != "000000" else "111111"
    client.post("/mfa/verify/", {"device": totp_device.persistent_id, "token": wrong, "action": "verify"})
    client.post("/mfa/verify/", {"device": totp_device.persistent_id, "token": good, "action": "verify"})

    records = [r for r in caplog.records if r.name == "mfa_oauth.audit"]
    events = [r.event for r in records]
    assert events == ["login_failed", "login_succeeded", "mfa_failed", "mfa_succeeded"]
    failed = records[2]
    assert failed.method == "totp" and failed.user_id == user.pk
    assert failed.device == totp_device.persistent_id and failed.ip == "127.0.0.1"
    lines = [JSONFormatter().format(r) for r in records]
    for text in lines:
        assert PASSWORD not in text and "wrong" not in text.replace("login_failed", "")
        assert good not in text and wrong not in text and totp_device.key not in text
    assert json.loads(lines[0])["username"] == "alice"
