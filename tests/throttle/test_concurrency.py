"""Parallel guesses against the cache: exactly the free allowance is checked, no count is lost."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.cache import cache

from mfa_oauth.throttle import counters

from .race import guess, outcomes, race

ADDRESS = ipaddress.ip_address("198.51.100.7")


def failures(username: str) -> int | None:
    scope = counters.scopes_for(username, None, counters.Config.current())[0]
    return cache.get(scope.failures_key)


def test_forty_parallel_guesses_check_exactly_five_passwords():
    results = race([guess("alice", ADDRESS) for _ in range(40)])
    assert outcomes(results) == {"checked": 5, "refused": 35}
    assert failures("alice") == 5  # the refused ones are not counted; none of the checked ones lost


def test_parallel_guesses_spread_over_accounts_hit_the_ip_allowance(mfa_settings):
    mfa_settings(LOGIN_THROTTLE_IP_FREE_FAILURES=10)
    results = race([guess(f"user{n}", ADDRESS) for n in range(40)])
    assert outcomes(results) == {"checked": 10, "refused": 30}


@pytest.mark.parametrize("rounds", [3])
def test_after_each_window_one_parallel_guess_is_checked(clock, rounds):
    race([guess("alice", ADDRESS) for _ in range(10)])
    for round_ in range(rounds):
        clock.shift(counters.Config.current().window(round_ + 1) + 1)
        assert outcomes(race([guess("alice", ADDRESS) for _ in range(10)])) == {"checked": 1, "refused": 9}
