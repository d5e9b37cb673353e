"""Session helpers for the enrollment/administration tests."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY

from mfa_oauth.context import SESSION_KEY, AuthContext, password_factor
from mfa_oauth.methods import factor_for
from tests.conftest import PASSWORD, totp_for


def login(client, user, *, password: str = PASSWORD) -> None:
    """The password step through the real login view (starts the authentication context)."""
    response = client.post("/accounts/login/", {"username": user.get_username(), "password": password})
    assert response.status_code == 302, response.content[:500]


def verify_totp(client, device, *, at: float | None = None) -> None:
    """The second factor through the real challenge step, with an independent TOTP generator."""
    code = totp_for(device).at(at or time.time())
    response = client.post("/mfa/verify/", {"device": device.persistent_id, "token": code, "action": "verify"})
    assert response.status_code == 303, response.content.decode()[:800]


def give_mfa(client, user, device, *, age: int = 0) -> None:
    """A session that completed password + ``device`` ``age`` seconds ago (for tests that are not
    about the challenge step itself, and need several fresh factors within one TOTP time step)."""
    client.force_login(user)
    session = client.session
    now = int(time.time()) - age
    factor = factor_for(device, at=now)
    session[SESSION_KEY] = AuthContext(user_id=user.pk, factors=(password_factor(now), factor)).to_dict()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def make_staff(username: str = "root", **extra):
    return get_user_model().objects.create_superuser(username, f"{username}@example.com", PASSWORD, **extra)
