"""Where a complete flow's server time goes: pyinstrument over each request of N flows, per step.

    .venv/bin/pip install -r bench/requirements-profile.txt
    .venv/bin/python -m bench.profile [--flows 200] [--warmup 3] [--step token] [--settings bench.settings_mfa]

A fresh SQLite deployment (``bench.harness.deploy``), the site's WSGI application served in this
process by ``wsgiref`` on loopback, and ``bench.harness.complete_authorization`` driving it; every request
is profiled on its own and the sessions of one step (``harness.STEPS``) are combined, then printed
(``--step``: only that one); the ``--warmup`` flows before them are not profiled. Profiles what
gunicorn's worker runs per request (middleware, view, templates, SQL), not gunicorn itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

SESSIONS: dict[str, object] = {}
# Off during the warm-up flows: a worker's first requests import the URLconf and its views, compile
# templates and URL patterns, which no later request pays (a fifth of the first authorize request).
RECORDING = {"on": True}


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _Site:
    def __init__(self, port: int):
        self.base_url = f"http://127.0.0.1:{port}"
        self.origin = f"https://127.0.0.1:{port}"

    def new_session(self):
        return harness.new_session(True)


def profiled(app):
    from pyinstrument import Profiler
    from pyinstrument.session import Session

    def wrapper(environ, start_response):
        status = []
        if environ.get("HTTP_X_FORWARDED_PROTO") == "https":  # as gunicorn does for a trusted proxy
            environ["wsgi.url_scheme"] = "https"

        def record(code, headers, *rest):
            status.append(code)
            return start_response(code, headers, *rest)

        if not RECORDING["on"]:
            return list(app(environ, start_response))
        profiler = Profiler(interval=0.0002)
        profiler.start()
        try:
            return list(app(environ, record))
        finally:
            session = profiler.stop()
            step = _step_name(environ["REQUEST_METHOD"], environ["PATH_INFO"], status[0] if status else "")
            SESSIONS[step] = Session.combine(SESSIONS[step], session) if step in SESSIONS else session

    return wrapper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=3, help="flows run first and not profiled")
    parser.add_argument("--step", default=None, help="print only this step (harness.STEPS)")
    parser.add_argument("--settings", default="bench.settings_mfa")
    parser.add_argument("--no-second-factor", action="store_true", help="plain DOT (bench.settings_plain)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as folder:
        accounts = args.flows + args.warmup + 10
        with harness.deploy(Path(folder), accounts=accounts, settings_module=args.settings) as deployment:
            os.environ.update(deployment.env)
            import django

            django.setup()
            from django.core.wsgi import get_wsgi_application

            app = profiled(get_wsgi_application())
            server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            site = _Site(server.server_port)
            pool = harness.AccountPool(deployment.accounts)
            failures = 0
            for index in range(args.warmup + args.flows):
                RECORDING["on"] = index >= args.warmup
                account = pool.acquire()
                result = harness.complete_authorization(
                    site, account, deployment.clients["public"], second_factor=not args.no_second_factor
                )
                pool.release(account, result.totp_step)
                failures += not result.ok
                if not result.ok and failures < 3:
                    print("failed:", result.error)
            server.shutdown()
    print(f"{args.flows} flows, {failures} failed")
    for step, session in SESSIONS.items():
        if args.step and step != args.step:
            continue
        from pyinstrument.renderers import ConsoleRenderer

        print(f"\n===== {step}: {session.duration / args.flows * 1000:.2f} ms per flow (wall, in-process)")
        print(ConsoleRenderer(unicode=True, color=False, short_mode=False, time="percent_of_total").render(session))
    return 0


def _step_name(method: str, path: str, status: str) -> str:
    """The harness's step name of a request (bench.harness.STEPS)."""
    if path.startswith("/o/token/"):
        return "token"
    if path.startswith("/accounts/login/"):
        return "login_get" if method == "GET" else "login"
    if path.startswith("/mfa/verify/"):
        return "challenge_get" if method == "GET" else "challenge_post"
    if path.startswith("/o/authorize/"):
        if method == "POST":
            return "consent_post"
        return "consent_get" if status.startswith("200") else "authorize"
    return f"{method} {path}"


if __name__ == "__main__":
    sys.exit(main())
