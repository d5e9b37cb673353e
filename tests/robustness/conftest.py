"""Hypothesis profile and shared fixtures of the robustness suite.

Bounded on purpose: ``max_examples`` per test is small (the suite runs inside ``make test`` on a
2-core machine), ``deadline`` is off (a shared CI box has noisy timings, and a slow example is not a
bug here), and under ``CI=true`` the examples are derandomized so a red CI run replays exactly.
``HYPOTHESIS_PROFILE=robustness-long`` runs many more examples locally when hunting bugs.
"""

from __future__ import annotations

import os

import pytest
from django.test import Client
from hypothesis import HealthCheck, Phase, settings

from tests.conftest import PASSWORD, pass_second_factor

# Each test shares its fixtures (user, devices, a logged-in session) across its examples and resets
# the database itself around every example (helpers.isolated), so function-scoped fixtures are
# exactly what we want; too_slow / data_too_large: huge junk strings are the point.
_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile(
    "robustness",
    max_examples=30,
    deadline=None,
    derandomize=_CI,
    database=None,  # nothing written into the work tree; CI replays by derandomizing
    print_blob=True,
    # No explain phase: it replays the failing example dozens of times (slow); shrinking is enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "robustness-long", max_examples=500, deadline=None, database=None, suppress_health_check=_SUPPRESSED
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "robustness"))


@pytest.fixture
def mfa_settings(settings):
    """Change MFA_OAUTH keys for one test: ``mfa_settings(MAX_FAILED_ATTEMPTS=3)``."""

    def update(**values):
        settings.MFA_OAUTH = {**settings.MFA_OAUTH, **values}

    return update


@pytest.fixture
def half_logged_in(user) -> Client:
    """A browser past the password form only (the state in which the challenge step is reached)."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def sessions(user, totp_device) -> dict[str, Client]:
    """Three browsers of alice: anonymous, past the password only, and fully signed in."""
    half = Client()
    assert half.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    full = Client()
    pass_second_factor(full, user, totp_device)
    return {"anonymous": Client(), "password only": half, "signed in": full}
