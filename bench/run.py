"""The benchmark: mfa_oauth against the Django alternatives doing the same work, and plain DOT, under gunicorn.

    .venv/bin/python bench/run.py [--rounds 4] [--duration 10] [--users 4]   # `make bench`
    .venv/bin/python bench/run.py --quick                                    # a short smoke run
    .venv/bin/python bench/run.py --no-peers                                 # ours and plain DOT only
    .venv/bin/python bench/run.py --markdown [results.json]                  # the README block again
    .venv/bin/python bench/run.py --update-readme [results.json]             # ... written into README.md

Four sites, each served by gunicorn (2 sync workers) on loopback: ``bench.settings_mfa`` (ours:
password + TOTP + consent + token), the peers of ``bench/peers/`` (django-allauth's IdP + MFA,
django-two-factor-auth + DOT; each in its own venv, checked before timing by ``bench.peers.site.verify``)
and ``bench.settings_plain`` (our site with django-oauth-toolkit's stock OAuth views and validator, no
second factor). With the peers every site runs on SQLite; ``--no-peers`` keeps the two-site run, on
PostgreSQL and Redis with the production settings when both are reachable. Rounds rotate the order of
the sites and reverse it every other round, so the machine's drift cancels; each figure is the median
over rounds with its min-max, and ours/other is the median of the per-round ratios.

Each round, for each site (the peers: step 1 only):
1. complete authorizations by ``--users`` concurrent clients for ``--duration`` s: throughput per
   server CPU-second ("per core", as in issue 8), CPU per flow, p50/p95 and SQL statements per step;
2. the token endpoint: codes pre-minted through signed-in sessions (not timed), then only the
   redemptions timed (public client, PKCE); the refresh tokens those gave, each refreshed once;
   client_credentials (confidential client) for half the duration;
3. introspection (RFC 7662, the confidential client's Basic auth) for half the duration.
"CPU per flow excluding the password hash" subtracts, once per flow (one login), the CPU of one
``check_password`` with the site's hasher, measured in-process by ``bench/hashcost.py``.
After the rounds, the SMS figures (``bench/sms.py``) when Redis is reachable.

Output: the table on stdout and ``bench/results/<timestamp>.json`` + ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, report  # noqa: E402
from bench import sms as sms_bench  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parent.parent / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "12"))  # cache and Celery broker (flushed)
BASE_PORT = int(os.environ.get("BENCH_BASE_PORT", "18200"))  # the MFA site; plain DOT on the next port
WORKERS = 2


_T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", flush=True)


def reachable(url: str, port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class SiteUnderTest:
    name: str  # "mfa" or "plain"
    deployment: harness.Deployment
    server: harness.Server
    pool: harness.AccountPool
    second_factor: bool
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    task: object = None  # a peer's flow task (bench.peers.site.flow_task); None: harness.flow_task
    peer: bool = False  # a peer is measured on complete flows only (its token endpoint is its own design)

    def failed(self, count: int, messages: list[str]) -> None:
        self.error_count += count
        self.errors.extend(messages[: max(0, 20 - len(self.errors))])


# --- the measured phases -------------------------------------------------------------------------


def _post_json(site: SiteUnderTest, session, path: str, data: dict, auth=None, expect: int = 200) -> dict:
    answer = session.post(urljoin(site.server.base_url, path), data=data, auth=auth, timeout=60)
    if answer.status_code != expect:
        raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json()


def _sessions(site: SiteUnderTest, users: int) -> tuple:
    local = threading.local()
    made = []

    def get():
        if not hasattr(local, "session"):
            local.session = site.server.new_session()
            made.append(local.session)
        return local.session

    return get, made


def flows(site: SiteUnderTest, users: int, duration: float, hash_cpu_ms: float) -> dict[str, float | None]:
    client = site.deployment.clients["public"]
    task = site.task or harness.flow_task(site.server, site.pool, client, second_factor=site.second_factor)
    cpu = site.server.cpu_seconds()
    load = harness.run_concurrently(task, users=users, duration=duration)
    cpu = site.server.cpu_seconds() - cpu
    site.failed(load.errors, load.error_messages)
    values: dict[str, float | None] = {}
    done = load.completed
    values["flow.authorizations_per_core_s"] = done / cpu if cpu and done else None
    values["flow.authorizations_per_s"] = load.rate or None
    values["flow.cpu_ms_per_flow"] = 1000 * cpu / done if done else None
    values["flow.cpu_ms_per_flow_excl_hash"] = 1000 * cpu / done - hash_cpu_ms if done else None
    for step in harness.STEPS:
        if load.step_seconds.get(step):
            values[f"step.{step}.p50_ms"] = 1000 * load.p50(step)
            values[f"step.{step}.p95_ms"] = 1000 * load.p95(step)
        if load.step_sql.get(step):
            values[f"sql.{step}"] = statistics.median(load.step_sql[step])
        if load.step_cpu.get(step):  # the worker's own CPU for the request (X-CPU-Time), median
            values[f"cpu.{step}_ms"] = 1000 * statistics.median(load.step_cpu[step])
    values["sql.per_flow"] = statistics.median(load.flow_sql) if load.flow_sql else None
    values["_flows"] = done
    values["_client_cpu_s"] = load.client_cpu_seconds
    return values


def token_endpoint(site: SiteUnderTest, users: int, duration: float, codes: int) -> dict[str, float | None]:
    server, clients = site.server, site.deployment.clients
    public, service = clients["public"], clients["service"]
    values: dict[str, float | None] = {}

    # Codes minted by signed-in browsers (not timed: login and consent are the flow's figures).
    browsers = []
    for _ in range(users):
        account = site.pool.acquire()
        session, step = harness.signed_in_session(server, account, public, second_factor=site.second_factor)
        site.pool.release(account, step)
        browsers.append(session)
    slots = itertools.cycle(range(users))
    locks = [threading.Lock() for _ in browsers]

    def mint(_):
        slot = next(slots)
        with locks[slot]:  # one request at a time per browser, as a browser would
            return harness.mint_code(server, browsers[slot], public)

    minted, errors, _ = harness.map_concurrently(list(range(codes)), users, mint)
    site.failed(len(errors), errors)
    for session in browsers:
        session.close()

    get_session, made = _sessions(site, users)

    def timed(name: str, items: list, work) -> list:
        cpu = server.cpu_seconds()
        results, errors, _wall = harness.map_concurrently(items, users, work)
        cpu = server.cpu_seconds() - cpu
        site.failed(len(errors), errors)
        values[name] = len(results) / cpu if cpu and results else None
        return results

    def redeem(item):
        code, verifier = item
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": public.redirect_uri,
            "code_verifier": verifier,
            "client_id": public.client_id,
        }
        return _post_json(site, get_session(), "/o/token/", data)

    tokens = timed("grant.authorization_code.per_core_s", minted, redeem)

    def refresh(token):
        data = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"], "client_id": public.client_id}
        return _post_json(site, get_session(), "/o/token/", data)

    refreshed = timed("grant.refresh_token.per_core_s", tokens, refresh)

    def rate_for(name: str, seconds: float, work) -> None:
        """``work()`` back to back by ``users`` threads for ``seconds``: successes per server CPU-second."""

        def task() -> harness.FlowResult:
            try:
                work()
                return harness.FlowResult(ok=True)
            except Exception as error:
                return harness.FlowResult(ok=False, error=f"{name}: {error}"[:300])

        cpu = server.cpu_seconds()
        load = harness.run_concurrently(task, users=users, duration=seconds)
        cpu = server.cpu_seconds() - cpu
        site.failed(load.errors, load.error_messages)
        values[name] = load.completed / cpu if cpu and load.completed else None

    service_auth = (service.client_id, service.client_secret)
    rate_for(
        "grant.client_credentials.per_core_s",
        duration / 2,
        lambda: _post_json(site, get_session(), "/o/token/", {"grant_type": "client_credentials"}, auth=service_auth),
    )

    access_tokens = itertools.cycle([t["access_token"] for t in refreshed] or ["none"])

    def introspect() -> None:
        answer = _post_json(site, get_session(), "/o/introspect/", {"token": next(access_tokens)}, auth=service_auth)
        if answer.get("active") is not True:
            raise RuntimeError(f"introspection: an issued token is not active: {answer}")

    rate_for("introspection.per_core_s", duration / 2, introspect)
    for session in made:
        session.close()
    values["_codes"] = len(minted)
    return values


def measure(site: SiteUnderTest, args, hash_cpu_ms: float) -> dict[str, float | None]:
    values = flows(site, args.users, args.duration, hash_cpu_ms)
    if not site.peer:
        values.update(token_endpoint(site, args.users, args.duration, args.codes))
    peaks = site.server.peak_rss_per_worker()
    values["memory.peak_rss_mb_per_worker"] = max(peaks.values()) / 2**20 if peaks else None
    return values


# --- the run -----------------------------------------------------------------------------------------


def machine(database: str) -> dict:
    import django
    import gunicorn
    import oauth2_provider

    model = "unknown"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "django_oauth_toolkit": oauth2_provider.__version__,
        "gunicorn": gunicorn.__version__,
        "database": database,
    }


def site_facts(env: dict[str, str]) -> dict[str, str]:
    """The database (engine and version), cache backend and session engine the site runs with."""
    code = (
        "import json; from django.conf import settings as s; from django.db import connection as c; "
        "c.ensure_connection(); "
        "print(json.dumps([c.vendor, str(c.Database.sqlite_version if c.vendor == 'sqlite' else c.pg_version), "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], s.SESSION_ENGINE.rsplit('.', 1)[-1]]))"
    )
    try:
        output = harness._run([sys.executable, "manage.py", "shell", "-c", code], env, 60)
        vendor, version, cache, sessions = json.loads(output.strip().splitlines()[-1])
    except (RuntimeError, ValueError):
        return {"database": "unknown", "cache": "unknown"}
    if vendor == "postgresql":
        number = int(version)
        database = f"PostgreSQL {number // 10000}.{number % 10000}"
    else:
        database = f"SQLite {version}"
    return {"database": database, "cache": f"{cache}, sessions: {sessions}"}


def hash_cost(env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.hashcost"], env=env, cwd=harness.ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_average() -> float | None:
    """The 1-minute load average (/proc/loadavg): how busy the machine was besides this run."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run(args) -> dict:
    began = time.monotonic()
    load_before = load_average()
    redis_up = reachable(REDIS_HOST, 6379)
    with_peers = not args.no_peers
    # With the peers, every site runs on SQLite: the peers' documented minimal setup, the same for all four.
    production = not args.sqlite and not with_peers and redis_up and reachable(POSTGRES_URL, 5432)
    if production:
        print("database: PostgreSQL + Redis (the production settings, IDP_PRODUCTION=1)", flush=True)
    else:
        why = "--sqlite" if args.sqlite else "the four-site run" if with_peers else "PostgreSQL or Redis not reachable"
        print(f"database: SQLite (the embedded default; {why})", flush=True)
    accounts = args.accounts or max(200, args.users * 150)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        broker = f"{REDIS_HOST}/{REDIS_DB}" if redis_up else None
        # One database for both sites ("same site, same DB"): the rounds alternate, so one site's rows
        # are the other's history too, as on two nodes of one deployment.
        deployment = stack.enter_context(
            harness.deploy(
                folder,
                accounts=accounts,
                postgres_url=POSTGRES_URL if production else None,
                redis_url=broker if production else None,
                extra_env={"GUNICORN_MAX_REQUESTS": "0"},
            )
        )
        log(f"database migrated and seeded ({accounts} accounts)")
        fake = None
        env = dict(deployment.env)
        if broker and not args.no_sms:
            # Both sites get the SMS settings (the plain site never sends one): identical environments.
            fake = stack.enter_context(sms_bench.fake_twilio())
            env.update(sms_bench.sms_env(fake.url, broker, f"https://127.0.0.1:{args.port}"))
        # The hasher's cost (a subprocess) and both servers' start-ups overlap.
        hasher_result: dict = {}
        hashing = threading.Thread(target=lambda: hasher_result.update(hash_cost(env)), daemon=True)
        hashing.start()
        servers = {
            name: harness.Server(env, port=port, workers=WORKERS, settings_module=settings_module)
            for port, (name, settings_module) in enumerate(
                (("mfa", "bench.settings_mfa"), ("plain", "bench.settings_plain")), start=args.port
            )
        }
        for server in servers.values():
            stack.callback(server.stop)
        _, failures, _ = harness.map_concurrently(list(servers.values()), len(servers), lambda server: server.start())
        if failures:
            raise RuntimeError(f"gunicorn did not start: {failures}")
        log(f"gunicorn up: mfa {servers['mfa'].base_url}, plain {servers['plain'].base_url}")
        pool = harness.AccountPool(deployment.accounts)  # shared: a TOTP step spent is spent for both
        sites = {
            name: SiteUnderTest(name, deployment, server, pool, second_factor=name == "mfa")
            for name, server in servers.items()
        }
        if with_peers:
            from bench.peers import site as peers

            for name in peers.NAMES:
                peer_deployment = stack.enter_context(peers.deploy(name, folder / name, accounts=accounts, log=log))
                server = peers.PeerServer(peer_deployment, port=free_port(), workers=WORKERS)
                stack.callback(server.stop)
                server.start()
                peer_pool = harness.AccountPool(peer_deployment.accounts)
                sites[name] = SiteUnderTest(
                    name,
                    peer_deployment,
                    server,
                    peer_pool,
                    second_factor=True,
                    task=peers.flow_task(name, server, peer_pool, peer_deployment.clients["public"]),
                    peer=True,
                )
                log(f"peer {name} up on {server.base_url}: {peers.verify(name, server, peer_deployment, peer_pool)}")
        hashing.join()
        if not hasher_result:
            raise RuntimeError("bench/hashcost.py failed")
        hasher = hasher_result
        print(f"password hasher: {hasher['algorithm']}, {hasher['cpu_ms']:.1f} ms CPU per check (in-process)")
        facts = site_facts(env)
        database = facts["database"]
        for site in sites.values():  # warm-up: imports, connections, template caches of every worker
            harness.run_concurrently(
                site.task
                or harness.flow_task(
                    site.server, site.pool, site.deployment.clients["public"], second_factor=site.second_factor
                ),
                users=args.users,
                duration=1.0 if args.quick else 3.0,
            )
            site.errors.clear()
        log("warmed up")

        rounds = []
        for i in range(args.rounds):
            names = list(sites)  # mfa, plain[, allauth, two_factor]
            shift = (i // 2) % len(names)  # ABCD DCBA BCDA ADCB ...: linear drift cancels, every site leads
            order = names[shift:] + names[:shift]
            if i % 2:
                order.reverse()
            measured = {}
            for name in order:
                measured[name] = measure(sites[name], args, hasher["cpu_ms"])
            rounds.append(measured)
            m, p = measured["mfa"], measured["plain"]
            log(
                f"round {i + 1}/{args.rounds}: authorizations/s/core "
                f"mfa {m['flow.authorizations_per_core_s'] or 0:.1f} "
                f"plain {p['flow.authorizations_per_core_s'] or 0:.1f}; auth-code grants/s/core "
                f"mfa {m['grant.authorization_code.per_core_s'] or 0:.0f} "
                f"plain {p['grant.authorization_code.per_core_s'] or 0:.0f}; "
                f"flows {m['_flows']}/{p['_flows']}; errors {sites['mfa'].error_count}/{sites['plain'].error_count}"
                + "".join(
                    f"; {name} {measured[name]['flow.authorizations_per_core_s'] or 0:.1f}/s/core "
                    f"({measured[name]['_flows']} flows, {sites[name].error_count} errors)"
                    for name in sites
                    if sites[name].peer
                )
            )

        sms_result = {"figures": {}, "skipped": "Redis not reachable"}
        if args.no_sms:
            sms_result["skipped"] = "--no-sms"
        elif fake is not None:
            log("SMS: Celery worker + Twilio-shaped server ...")
            sms_result = sms_bench.run(
                deployment,
                sites["mfa"].server,
                fake,
                env=env,
                broker_url=broker,
                users=args.users,
                duration=args.duration,
                burst=args.sms_burst,
            )
        log("SMS done")
        mem_note = "VmHWM of each gunicorn worker (/proc), the largest"
        results = {
            "meta": {
                "started": datetime.fromtimestamp(time.time() - (time.monotonic() - began), timezone.utc).isoformat(),
                "finished": datetime.now(timezone.utc).isoformat(),
                "took_s": time.monotonic() - began,
                "rounds": args.rounds,
                "duration": args.duration,
                "users": args.users,
                "codes_per_round": args.codes,
                "accounts": accounts,
                "workers": WORKERS,
                "quick": args.quick,
                # Taken before the run's own servers start and as it ends (its own load is in the second).
                "load_average": {"before": load_before, "after": load_average()},
                "peers": peer_versions() if with_peers else None,
                "database": database,
                "production_settings": production,
                "cache": facts["cache"],
                "hasher": hasher,
                "machine": machine(database),
                "notes": {
                    "per_core": "completed work / CPU seconds of the gunicorn master and workers (/proc)",
                    "ratio": "median over rounds of MFA/plain of the same round",
                    "excl_hash": "CPU per flow minus one check_password of the site's hasher (one login per flow)",
                    "memory": mem_note,
                    "account_pool_waits": pool.waits,
                    "same_database": "both sites serve one migrated, seeded database, in alternating rounds",
                },
            },
            "rounds": rounds,
            "figures": report.aggregate(rounds),
            "four_sites": report.aggregate_sites(rounds) if with_peers else None,
            "sms": sms_result,
            "errors": {name: s.error_count for name, s in sites.items()} | {"sms": len(sms_result.get("errors", []))},
            "error_messages": {name: s.errors for name, s in sites.items()} | {"sms": sms_result.get("errors", [])},
        }
        results["goals"] = report.goals(results)
        return results


def peer_versions() -> dict[str, str]:
    """The peers' pinned requirements (bench/peers/<name>/requirements.txt), for the results' description."""
    from bench.peers import site as peers

    pins = {}
    for name in peers.NAMES:
        lines = (peers.PEERS_DIR / name / "requirements.txt").read_text().splitlines()
        pins[name] = ", ".join(
            x
            for x in lines
            if x and not x.startswith("#") and not x.startswith(("Django", "gunicorn", "argon2", "requests"))
        )
    return pins


def write(results: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{stamp}{'-quick' if results['meta']['quick'] else ''}.json"
    text = json.dumps(results, indent=2, default=str)
    path.write_text(text)
    (out / ("latest-quick.json" if results["meta"]["quick"] else "latest.json")).write_text(text)
    return path


def update_readme(block: str, readme: Path = README) -> None:
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + block + "\n" + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="4: one ABBA cycle")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each load phase")
    parser.add_argument("--users", type=int, default=4, help="concurrent clients")
    parser.add_argument("--codes", type=int, default=150, help="codes minted then redeemed per round and site")
    parser.add_argument("--accounts", type=int, default=0, help="seeded accounts (default: 150 per user)")
    parser.add_argument("--sms-burst", type=int, default=60, help="SMS requests timed to the last Twilio request")
    parser.add_argument("--quick", action="store_true", help="a short run for smoke testing")
    parser.add_argument("--sqlite", action="store_true", help="the embedded default even when PostgreSQL is up")
    parser.add_argument("--no-sms", action="store_true")
    parser.add_argument(
        "--no-peers", action="store_true", help="ours and plain DOT only (PostgreSQL when reachable), no peers"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--port", type=int, default=BASE_PORT, help="the MFA site's port; plain DOT on the next")
    parser.add_argument("--markdown", nargs="?", const=RESULTS / "latest.json", type=Path, metavar="JSON")
    parser.add_argument("--update-readme", nargs="?", const=RESULTS / "latest.json", type=Path, metavar="JSON")
    args = parser.parse_args(argv)
    if args.markdown or args.update_readme:
        results = json.loads((args.markdown or args.update_readme).read_text())
        if args.update_readme:
            update_readme(report.markdown(results))
            print(f"README.md: benchmark block from {args.update_readme}")
        else:
            print(report.markdown(results))
        return 0
    if args.quick:
        args.rounds, args.duration, args.codes, args.sms_burst = 1, 1.5, 16, 6
        args.users = min(args.users, 2)
        args.accounts = args.accounts or 100
    # SIGTERM (a timeout, a CI cancel) unwinds like Ctrl-C: servers stopped, the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = run(args)
    print()
    print(report.text_table(results))
    print(f"\nwritten: {write(results, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
