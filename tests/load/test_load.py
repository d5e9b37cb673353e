"""200 concurrent simulated users doing complete MFA logins for 60 s against gunicorn.

Production-like: ``IDP_PRODUCTION=1`` settings on a fresh PostgreSQL database with Redis as cache and
broker, gunicorn with 2 sync workers as deployed (deploy/gunicorn.conf.py), reached over loopback as
if behind a TLS proxy (bench/harness.py explains). Each flow is password + TOTP + consent + token with
PKCE, each user a fresh browser per flow. Zero errors is the bar; the figures are printed (they reach
the CI log) and bench/run.py is where they are compared with plain django-oauth-toolkit.

Marked ``load``: CI runs it in leg 1 only (.ci/run deselects it on the Django 6 leg).
"""

from __future__ import annotations

import os

import pytest

from bench.harness import AccountPool, Server, deploy, flow_task, run_concurrently
from tests.services import free_port, require_postgres, require_redis

from .conftest import log_problems

pytestmark = pytest.mark.load

USERS = 200
DURATION = 60.0
# Enough accounts that none signs in twice in one 30 s TOTP step: rate x 30 s x 2 at up to 50 flows/s.
ACCOUNTS = 3000
REDIS_DB = int(os.environ.get("MFA_TEST_LOAD_REDIS_DB", "10"))
PORT = int(os.environ.get("MFA_TEST_LOAD_PORT", "0")) or free_port()


def test_200_users_complete_mfa_logins_for_60s_without_errors(tmp_path, show):
    postgres = require_postgres()
    redis_url = require_redis(REDIS_DB)
    with deploy(tmp_path, accounts=ACCOUNTS, postgres_url=postgres, redis_url=redis_url) as site:
        with Server(site.env, port=PORT, workers=2) as server:
            pool = AccountPool(site.accounts)
            cpu_before = server.cpu_seconds()
            result = run_concurrently(flow_task(server, pool, site.clients["public"]), users=USERS, duration=DURATION)
            server_cpu = server.cpu_seconds() - cpu_before
            peaks = server.peak_rss_per_worker()
        problems = log_problems(server.log)

    show(
        f"=== load test: {USERS} users, complete MFA logins (password + TOTP + consent + token), "
        f"gunicorn 2 workers, PostgreSQL + Redis, production settings, {os.cpu_count()} CPUs shared with the "
        f"load generator\n" + result.report(server_cpu, peaks) + f"\naccount pool waits: {pool.waits}"
    )
    assert result.errors == 0, result.error_messages
    assert not problems, problems[:5]
    # Every simulated user got through at least one complete login: nobody starved or timed out.
    assert min(result.per_user) >= 1, sorted(result.per_user)[:10]
    assert result.completed >= USERS
    # Every flow went through the second factor (the challenge steps ran once per flow).
    assert len(result.step_seconds["challenge_post"]) == result.completed
    # The pool was large enough: no user waited for a TOTP step to pass (that would throttle the rate).
    assert pool.waits == 0
