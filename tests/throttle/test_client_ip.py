"""mfa_oauth.client_ip: REMOTE_ADDR unless the operator names the proxies to trust."""

from __future__ import annotations

import pytest

from mfa_oauth.audit.recorder import client_ip as audit_client_ip
from mfa_oauth.client_ip import client_ip
from mfa_oauth.sms.service import client_ip as sms_client_ip


@pytest.fixture
def proxies(mfa_settings):
    def trust(*entries):
        mfa_settings(TRUSTED_PROXIES=list(entries))

    return trust


def test_remote_addr_only_by_default(rf):
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(request) == "198.51.100.7"


@pytest.mark.parametrize("remote", ["", "junk", "1.2.3.4.5", "x" * 100, None])
def test_no_usable_remote_addr_is_none(rf, remote):
    request = rf.get("/")
    request.META["REMOTE_ADDR"] = remote
    assert client_ip(request) is None


def test_no_request_is_none():
    assert client_ip(None) is None


def test_ipv4_mapped_ipv6_is_the_ipv4_client(rf):
    assert client_ip(rf.get("/", REMOTE_ADDR="::ffff:192.0.2.1")) == "192.0.2.1"


def test_the_header_is_read_from_a_trusted_proxy(rf, proxies):
    proxies("10.0.0.0/8")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(request) == "203.0.113.1"


def test_forged_left_hand_entries_are_not_believed(rf, proxies):
    proxies("10.0.0.0/8")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.1")
    assert client_ip(request) == "203.0.113.1"


def test_a_chain_of_trusted_proxies_is_walked(rf, proxies):
    proxies("10.0.0.0/8", "2001:db8::1")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.1, 2001:db8::1, 10.9.9.9")
    assert client_ip(request) == "203.0.113.1"


def test_an_untrusted_peer_cannot_use_the_header(rf, proxies):
    proxies("10.0.0.0/8")
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(request) == "198.51.100.7"


def test_junk_in_the_header_stops_the_walk(rf, proxies):
    proxies("10.0.0.0/8")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.1, unknown, 10.0.0.3")
    assert client_ip(request) == "10.0.0.3"  # the last address a trusted proxy wrote, not the one beyond junk


def test_only_proxies_in_the_header_gives_the_left_most(rf, proxies):
    proxies("10.0.0.0/8")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.0.0.5")
    assert client_ip(request) == "10.0.0.5"


def test_no_header_from_the_proxy_is_the_proxy(rf, proxies):
    proxies("10.0.0.0/8")
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"


def test_sms_limits_and_audit_use_the_same_client_ip(rf, proxies):
    proxies("10.0.0.0/8")
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert sms_client_ip(request) == audit_client_ip(request) == "203.0.113.1"


def test_a_malformed_setting_trusts_no_header_instead_of_failing(rf, proxies):
    proxies("10.0.0.0/8", "proxy.example")  # system check mfa_oauth.E020
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(request) == "10.0.0.2"
