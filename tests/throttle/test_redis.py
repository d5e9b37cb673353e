"""On Redis, the production cache (idp_site/production.py): two web nodes, two cache clients, one
count. Each "node" is its own CACHES alias, so its own RedisCache object and connection pool."""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.test import Client

from mfa_oauth.throttle import counters
from tests.conftest import PASSWORD
from tests.services import require_redis

from .race import guess, outcomes, race

pytestmark = pytest.mark.redis

THROTTLE_DB = 5  # this suite's own Redis database, emptied before and after
ADDRESS = ipaddress.ip_address("198.51.100.7")


@pytest.fixture
def nodes(settings, mfa_settings):
    """``use("a")`` / ``use("b")`` points the throttle at node a's or node b's cache client."""
    url = require_redis(db=THROTTLE_DB)
    prefix = f"throttle-test-{uuid.uuid4().hex[:8]}"
    node = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    settings.CACHES = {**settings.CACHES, "node_a": dict(node), "node_b": dict(node)}
    caches["node_a"].clear()

    def use(name: str) -> None:
        mfa_settings(LOGIN_THROTTLE_CACHE=f"node_{name}")

    yield use
    caches["node_a"].clear()
    caches.close_all()


def test_two_nodes_share_the_count(nodes, user):
    assert caches["node_a"] is not caches["node_b"]
    browser = Client()
    for node in ("a", "b", "a", "b", "a"):
        nodes(node)
        browser.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    nodes("b")
    refused = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert SESSION_KEY not in browser.session


def test_a_success_on_one_node_clears_the_count_on_the_other(nodes, user):
    browser = Client()
    nodes("a")
    for _ in range(4):
        browser.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    nodes("b")
    assert browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    nodes("a")
    assert [counters.begin("alice", ADDRESS).tickets[0].count for _ in range(4)] == [1, 2, 3, 4]


def test_parallel_guesses_on_redis_check_exactly_five(nodes):
    nodes("a")
    results = race([guess("alice", ADDRESS) for _ in range(40)])
    assert outcomes(results) == {"checked": 5, "refused": 35}
    nodes("b")
    with pytest.raises(counters.LoginThrottled) as refused:
        counters.begin("alice", ADDRESS)
    assert refused.value.refusal.scopes == ("account",)


def test_redis_itself_expires_the_window_and_the_count(nodes, mfa_settings):
    """Redis removes the keys by its own clock (TTL), so nothing outlives its window or FORGET_AFTER."""
    mfa_settings(LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES=1, LOGIN_THROTTLE_IP_FREE_FAILURES=0)
    nodes("a")
    counters.begin("alice", ADDRESS)
    scope = counters.scopes_for("alice", ADDRESS, counters.Config.current())[0]
    redis = caches["node_a"]._cache.get_client(write=False)
    assert 0 < redis.ttl(caches["node_a"].make_key(scope.window_key)) <= 60
    assert 24 * 3600 - 5 < redis.ttl(caches["node_a"].make_key(scope.failures_key)) <= 24 * 3600
