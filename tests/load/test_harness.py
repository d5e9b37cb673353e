"""The bench harness's own logic, in-process and fast (the load tests exercise the rest end to end)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from bench.harness import Account, AccountPool, LoadResult, percentile
from bench.sqlcount import CPU_HEADER, HEADER, SQLCountMiddleware


def accounts(n: int) -> list[Account]:
    return [Account(f"user{i}", "pw", "00" * 20) for i in range(n)]


def test_account_pool_never_hands_out_an_account_twice_in_one_totp_step(monkeypatch):
    step = 1000
    monkeypatch.setattr(AccountPool, "current_step", staticmethod(lambda: step))
    pool = AccountPool(accounts(3))
    taken = [pool.acquire() for _ in range(3)]
    assert [a.username for a in taken] == ["user0", "user1", "user2"]
    for account in taken:
        pool.release(account, used_step=step)
    # Every account spent a code in this step: the next one waits (here: times out), counted in waits.
    with pytest.raises(TimeoutError):
        pool.acquire(timeout=0.2)
    assert pool.waits >= 1
    step = 1001  # the next 30 s step: all usable again, oldest first
    assert pool.acquire().username == "user0"


def test_an_account_released_without_spending_a_code_is_usable_at_once(monkeypatch):
    monkeypatch.setattr(AccountPool, "current_step", staticmethod(lambda: 5))
    pool = AccountPool(accounts(1))
    pool.release(pool.acquire(), used_step=None)
    assert pool.acquire(timeout=0.1).username == "user0"


@pytest.mark.django_db
def test_sql_count_middleware_counts_every_statement_of_the_request():
    def view(request):
        with connection.cursor() as cursor:
            for _ in range(3):
                cursor.execute("SELECT 1")
        get_user_model().objects.filter(username="nobody").exists()
        return HttpResponse("ok")

    response = SQLCountMiddleware(view)(RequestFactory().get("/"))
    assert response[HEADER] == "4"
    assert float(response[CPU_HEADER]) >= 0
    # Each request counts its own statements: the wrapper of the last one is gone.
    assert SQLCountMiddleware(lambda request: HttpResponse())(RequestFactory().get("/"))[HEADER] == "0"


def test_percentiles_and_report():
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(0.0505, abs=1e-3)
    assert percentile(values, 95) == pytest.approx(0.095, abs=2e-3)
    assert percentile([], 50) != percentile([], 50)  # NaN
    result = LoadResult(users=1, duration=1.0, wall=2.0, completed=4)
    assert result.rate == 2.0
    assert "4 flows" in result.report(server_cpu=1.0)
