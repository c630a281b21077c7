"""A support tool's notification receiver on loopback: a real HTTP server in a thread that
checks every request's signature with the Standard Webhooks library, as a help desk's would,
keeps what arrived, and can be stopped and started again on the same port (the tool is down
for a while)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.emulators import free_port


@dataclass(frozen=True)
class Arrival:
    webhook_id: str
    body: dict[str, Any]
    raw: bytes

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.body["data"]
        return data


class Receiver:
    """POSTs to any path of `url`: 204 when the signature verifies, 400 when it does not."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/billing-gateway"
        self.secret: str | None = None
        self.refused = 0  # requests whose signature did not verify
        self._arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.receive(raw, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test asserts on what arrived."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The tool goes down: the port refuses connections until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def receive(self, raw: bytes, headers: dict[str, str]) -> int:
        assert self.secret is not None, "the receiver has no secret yet"
        try:
            Webhook(self.secret).verify(raw, headers)
        except WebhookVerificationError:
            with self._lock:
                self.refused += 1
            return 400
        with self._lock:
            self._arrivals.append(Arrival(headers["webhook-id"], json.loads(raw), raw))
        return 204
