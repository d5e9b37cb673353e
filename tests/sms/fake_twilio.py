"""A local Twilio-shaped HTTP server (RECIPES.md §4) for the real ``twilio`` client.

It answers the Messages resource (create and list), checks HTTP Basic auth, records every
request, and replies with whatever the test scripted: 201, an error code, a 5xx, or a slow reply.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")


@dataclass
class Reply:
    status: int = 201
    code: int | None = None  # Twilio error code for a JSON error body
    delay: float = 0.0  # seconds to wait before answering (a hanging or slow Twilio)
    text: str | None = None  # a non-JSON body (a proxy's 503 page)


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    query: dict[str, str]
    authorized: bool
    at: float = field(default_factory=time.time)


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[Recorded] = []
        self.messages: list[dict] = []
        self._script: list[Reply] = []
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                fake._handle(self, "POST")

            def do_GET(self):
                fake._handle(self, "GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- control from tests ----------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, *replies: Reply | int) -> None:
        """The replies to the next create requests, in order; then 201s."""
        with self._changed:
            self._script.extend(r if isinstance(r, Reply) else Reply(status=r) for r in replies)

    @property
    def creates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def wait_for_creates(self, count: int, timeout: float = 15.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.creates) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Twilio saw {len(self.creates)} create requests, expected {count}")
                self._changed.wait(left)
            return list(self.creates)

    # --- the server side ---------------------------------------------------------------------
    def _authorized(self, handler) -> bool:
        header = handler.headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}"

    def _handle(self, handler, method: str) -> None:
        parsed = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(body).items()}
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        authorized = self._authorized(handler)
        match = MESSAGES_PATH.match(parsed.path)
        with self._changed:
            self.requests.append(Recorded(method, parsed.path, form, query, authorized))
            reply = self._script.pop(0) if method == "POST" and self._script else Reply()
            message = None
            if method == "POST" and authorized and match and reply.status == 201:
                # Like the real service: once the request is in, the message exists, whether or not
                # the caller lives to read the answer.
                message = self._message(form)
                self.messages.append(message)
            self._changed.notify_all()
        if not authorized:
            return self._json(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        if not match or match.group(1) != self.account_sid:
            return self._json(handler, 404, {"code": 20404, "message": "Not found", "status": 404})
        if method == "GET":
            to = query.get("To")
            found = [m for m in self.messages if to is None or m["to"] == to]
            return self._json(handler, 200, {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50})
        if reply.delay:
            time.sleep(reply.delay)
        if reply.text is not None:
            return self._raw(handler, reply.status, reply.text)
        if reply.status != 201:
            code = reply.code or reply.status
            return self._json(
                handler,
                reply.status,
                {
                    "code": code,
                    "message": f"Error {code}",
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": reply.status,
                },
            )
        return self._json(handler, 201, message)

    def _message(self, form: dict[str, str]) -> dict:
        now = format_datetime(datetime.now(timezone.utc), usegmt=True)
        sid = "SM" + secrets.token_hex(16)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body"),
            "direction": "outbound-api",
            "num_segments": "1",
            "price": None,
            "error_code": None,
            "error_message": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
        }

    @staticmethod
    def _json(handler, status: int, payload: dict) -> None:
        FakeTwilio._raw(handler, status, json.dumps(payload), "application/json")

    @staticmethod
    def _raw(handler, status: int, text: str, content_type: str = "text/plain") -> None:
        data = text.encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller died (the SIGKILL test)
