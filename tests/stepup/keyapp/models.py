"""A test-only second factor at the phishing-resistant level.

WebAuthn lives on another branch; until it lands, step-up to ``phr`` is exercised with this
django-otp Device that describes itself as phishing-resistant through the documented
``mfa_method`` attribute (mfa_oauth.methods) and is verified through the real challenge page.
No migrations: the test database creates its table with run_syncdb.
"""

from __future__ import annotations

import hmac

from django.db import models
from django_otp.models import Device

from mfa_oauth.context import LEVEL_PHISHING_RESISTANT
from mfa_oauth.methods import Method


class TestSecurityKey(Device):
    secret = models.CharField(max_length=32)

    mfa_method = Method(
        "testkey",
        "Test security key",
        ("hwk", "user"),
        level=LEVEL_PHISHING_RESISTANT,
        token_pattern=r"[A-Za-z0-9]{8,32}",
    )

    def verify_token(self, token) -> bool:
        return hmac.compare_digest(str(token), self.secret)
