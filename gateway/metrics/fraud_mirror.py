"""The fraud blocklist mirror of each process: whether it listens, and how far behind it is."""

from __future__ import annotations

from prometheus_client import Gauge

LISTENING = Gauge(
    "billing_gateway_fraud_mirror_listening",
    "1 while this process's blocklist mirror holds its LISTEN connection, 0 while it is lost "
    "(screening then uses the list as last loaded).",
    multiprocess_mode="liveall",
)
LAG = Gauge(
    "billing_gateway_fraud_mirror_lag_seconds",
    "Seconds from a blocklist change being notified to this process to its being applied "
    "there: the last batch's, or, while changes wait (a failing read), the oldest waiting "
    "change's age so far. Alarm when it stays above a few seconds.",
    multiprocess_mode="liveall",
)


def record_listening(listening: bool) -> None:
    LISTENING.set(1 if listening else 0)


def record_lag(seconds: float) -> None:
    LAG.set(seconds)
