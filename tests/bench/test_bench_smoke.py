"""`bench/run.py --quick` end to end: the four sites under gunicorn (ours, plain DOT and the two peers in
their own venvs), every figure in the JSON, no errors.

Not a performance test: the figures' values are the benchmark's business (README "Benchmarks");
this checks that the benchmark still runs, measures everything it promises and that every flow,
grant, introspection and SMS request of the run succeeded.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import FIGURE_KEYS, SMS_FIGURES
from tests.services import require_redis

ROOT = Path(__file__).resolve().parents[2]
# Figures plain DOT has no counterpart for (its flow has no challenge step).
MFA_ONLY = {key for key in FIGURE_KEYS if "mfa_redirect" in key or "challenge" in key}

pytestmark = [pytest.mark.redis, pytest.mark.celery]


def free_port_pair() -> int:
    """A port p with p and p+1 free (the MFA site and plain DOT), below the ephemeral range.

    A port the OS hands out for ``bind(0)`` is an ephemeral one: between this check and gunicorn's
    bind, the run's own outgoing connections (PostgreSQL, Redis) may be given it ("Connection in
    use" in CI). Ports below the ephemeral range are only ever taken by an explicit bind."""
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randrange(20000, low - 1)
        if _bindable(port) and _bindable(port + 1):
            return port
    raise RuntimeError("no two consecutive free ports")


def _ephemeral_low() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(low, 20100)


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_quick_run_measures_every_figure_without_errors(tmp_path):
    redis_url = require_redis()  # the SMS figures need the broker; PostgreSQL is used when it is up
    env = {
        **os.environ,
        "BENCH_REDIS": redis_url.rsplit("/", 1)[0],
        "BENCH_REDIS_DB": os.environ.get("BENCH_TEST_REDIS_DB", "13"),
    }
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--out", str(tmp_path), "--port", str(free_port_pair())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # the peers' venvs, the first time: pip installs bench/peers/*/requirements.txt
    )
    print(run.stdout[-6000:])  # the table, in the test log
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads((tmp_path / "latest-quick.json").read_text())

    assert results["errors"] == {"mfa": 0, "plain": 0, "allauth": 0, "two_factor": 0, "sms": 0}, results[
        "error_messages"
    ]
    four = results["four_sites"]
    assert four["sites"] == ["mfa", "allauth", "two_factor", "plain"]
    for site in four["sites"]:
        for key in ("flow.authorizations_per_core_s", "flow.cpu_ms_per_flow", "sql.per_flow", "sql.token"):
            assert four["figures"][key][site]["median"] is not None, (site, key)
    assert all(four["ratios"][site]["median"] for site in ("allauth", "two_factor", "plain"))
    for key in FIGURE_KEYS:
        figure = results["figures"][key]
        assert figure["mfa"]["median"] is not None, key
        if key not in MFA_ONLY:
            assert figure["plain"]["median"] is not None, key
            # No ratio to a zero (plain DOT's login page runs no SQL): then the difference is the figure.
            assert figure["ratio"] is not None or figure["plain"]["median"] == 0, key
    for figure in SMS_FIGURES:
        assert results["sms"]["figures"][figure.key] is not None, figure.key
    assert results["rounds"][0]["mfa"]["_flows"] > 0 and results["rounds"][0]["plain"]["_flows"] > 0
    assert {"cpu_model", "cores", "python", "django", "database"} <= set(results["meta"]["machine"])
    assert results["goals"] and all(goal["met"] is not None for goal in results["goals"]), results["goals"]
    assert "MFA/plain" in run.stdout  # the table was printed
