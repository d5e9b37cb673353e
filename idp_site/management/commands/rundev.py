"""``runserver`` for ``make run``: at ``localhost``, both loopback addresses answer.

Django's runserver binds one socket of one family; ``localhost`` resolves to ``::1`` first on many
systems, and a browser that tries it before ``127.0.0.1`` must then fall back. So when the address is
``localhost`` this also serves ``[::1]`` on the same port, where the platform has IPv6 (the
address passkeys need: a WebAuthn RP ID cannot be an IP address, WebAuthn L2 §5.1.3)."""

from __future__ import annotations

import socket
import threading

from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler


class Command(RunserverCommand):
    help = "Run the development server; at localhost on both IPv4 and IPv6 loopback where possible."

    def handle(self, *args, **options):
        self._handler_options = options
        return super().handle(*args, **options)

    def on_bind(self, server_port: int) -> None:
        super().on_bind(server_port)
        if self.addr != "localhost" or self.use_ipv6 or not socket.has_ipv6:
            return
        try:
            second = ThreadedWSGIServer(("::1", server_port), WSGIRequestHandler, ipv6=True)
        except OSError as error:  # no IPv6 loopback here, or the port is taken on it: IPv4 only
            self.stdout.write(f"(IPv6 loopback [::1]:{server_port} not served: {error.strerror or error})\n")
            return
        second.set_app(self.get_handler(**self._handler_options))
        second.daemon_threads = True
        threading.Thread(target=second.serve_forever, name="rundev-ipv6", daemon=True).start()
        self.stdout.write(
            f"Also serving IPv6 loopback http://[::1]:{server_port}/ (open http://localhost:{server_port}/)\n"
        )
