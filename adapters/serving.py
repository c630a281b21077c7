"""Serve an emulator's ASGI app with uvicorn in a daemon thread on a loopback port: how the
sandbox runs the provider emulators beside the gateway, and how tests talk to them over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from litestar import post
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody


class BackgroundServer:
    def __init__(self, app: Any, port: int, host: str = "127.0.0.1") -> None:
        self.base = f"http://{host}:{port}"
        # No log settings of its own: uvicorn would set them on its loggers for the whole
        # process, and silence the API server's own start-up lines.
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                log_level=None,
                access_log=False,
                lifespan="off",
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout_seconds: float = 10) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {self.base}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


def fault_switches_handler(current: Callable[[], Any]) -> HTTPRouteHandler:
    """`POST /_emulator/faults` for an emulator whose switches `current()` returns (read at each
    request: tests swap in fresh ones). Unknown names are refused; values take the switch's type."""

    @post("/_emulator/faults", status_code=204)
    async def set_faults(data: JSONBody[dict[str, float]]) -> None:
        switches = current()
        for name, value in data.items():
            if name.startswith("_") or not hasattr(switches, name):
                raise ValidationException(f"unknown fault switch {name!r}")
            setattr(switches, name, type(getattr(switches, name))(value))

    return set_faults
