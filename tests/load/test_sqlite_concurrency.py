"""The embedded default holds under concurrent load.

The embedded settings (SQLite file, WAL, busy timeout, BEGIN IMMEDIATE: idp_site/settings.py) under
gunicorn with 2 workers, 4 concurrent clients doing complete authorizations for 15 s. Plain
django-oauth-toolkit on SQLite answered 500 at the token endpoint for about 15% of such flows
("database is locked"); here every flow must complete, and the server log must show no error.
"""

from __future__ import annotations

import itertools
import os
import threading

from bench.harness import AccountPool, Server, complete_authorization, deploy, run_concurrently
from tests.services import free_port

from .conftest import log_problems

USERS = 4
DURATION = 15.0
PORT = int(os.environ.get("MFA_TEST_SQLITE_LOAD_PORT", "0")) or free_port()


def test_sqlite_under_gunicorn_with_concurrent_clients_has_no_errors(tmp_path, show):
    with deploy(tmp_path, accounts=400) as site:
        assert site.database.endswith(".sqlite3")
        with Server(site.env, port=PORT, workers=2) as server:
            pool = AccountPool(site.accounts)
            # Public (PKCE only) and confidential (client secret) clients in turn: both token paths write.
            clients = itertools.cycle([site.clients["public"], site.clients["confidential"]])
            lock = threading.Lock()

            def task():
                with lock:
                    client = next(clients)
                account = pool.acquire()
                result = None
                try:
                    result = complete_authorization(server, account, client)
                    return result
                finally:
                    pool.release(account, result.totp_step if result else pool.current_step())

            cpu_before = server.cpu_seconds()
            result = run_concurrently(task, users=USERS, duration=DURATION)
            server_cpu = server.cpu_seconds() - cpu_before
            peaks = server.peak_rss_per_worker()
        problems = log_problems(server.log)

    show(
        f"=== SQLite under load: {USERS} clients, complete MFA authorizations, gunicorn 2 workers, "
        f"embedded default settings\n" + result.report(server_cpu, peaks)
    )
    assert result.errors == 0, result.error_messages
    assert not problems, problems[:5]
    assert result.completed >= 2 * USERS  # a handful each at the very least (hundreds when healthy)
    assert min(result.per_user) >= 1
