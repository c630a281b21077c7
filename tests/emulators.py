"""Provider emulators served by uvicorn on a free loopback port, in a thread of the test
process, so tests talk to them over real HTTP and can still set up their state directly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from adapters.serving import BackgroundServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    server = BackgroundServer(app, free_port()).start()
    try:
        yield server.base
    finally:
        server.stop()


def post(base: str, path: str) -> int:
    return httpx.post(f"{base}{path}", timeout=5).status_code
