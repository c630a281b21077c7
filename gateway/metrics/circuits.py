"""Each provider's circuit as this process sees it (every process keeps its own breakers)."""

from __future__ import annotations

from prometheus_client import Gauge

# purgatory's state names
CODES = {"closed": 0, "half-opened": 1, "opened": 2}

CIRCUIT = Gauge(
    "billing_gateway_provider_circuit_state",
    "A provider's circuit: 0 closed, 1 half-open (trying), 2 open (calls refused at once); the "
    "worst of the live processes.",
    ["provider"],
    multiprocess_mode="livemax",
)


def record_circuit(provider: str, state: str) -> None:
    CIRCUIT.labels(provider).set(CODES.get(state, 0))
