"""A local HTTP server that publishes a client's JWK Set (the client's jwks_uri), counting fetches."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def key_server(document: dict | bytes, delay: float = 0.0):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            if delay:
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        server.hits = hits
        server.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        yield server
    finally:
        server.shutdown()
        server.server_close()
