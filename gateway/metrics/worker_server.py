"""The job worker's own `/metrics`, on a port of its own (`worker --metrics-port`), so that a
worker in a container of its own can be scraped: its steps, circuits and failures."""

from __future__ import annotations

from prometheus_client import start_http_server

from gateway.core.log import get_logger
from gateway.metrics.multiprocess import registry

_log = get_logger("metrics")


def serve_worker_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 (a container's)
    """Serve in a thread of its own; port 0 serves nothing."""
    if not port:
        return
    start_http_server(port, addr=host, registry=registry())
    _log.info("worker metrics served", port=port)
