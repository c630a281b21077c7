"""Provider steps (an Apply's and a correction's), counted in the process that ran them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from prometheus_client import Counter, Histogram

from gateway.core.errors import BillingError, is_unavailable

STEPS = Counter(
    "billing_gateway_provider_steps",
    "Provider steps that ended, by provider, operation and outcome (succeeded: done at the "
    "provider; refused: the provider answered no; unknown: no answer before the deadline, a "
    "retry repeats it with the same key; error: the gateway's own failure).",
    ["work", "provider", "step", "outcome"],
)
LATENCY = Histogram(
    "billing_gateway_provider_step_seconds",
    "Time from a step's first call to its end, retries and backoff included.",
    ["work", "provider", "step"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


def outcome_of(error: BaseException | None) -> str:
    if error is None:
        return "succeeded"
    if is_unavailable(error):
        return "unknown"
    return "refused" if isinstance(error, BillingError) else "error"


@contextlib.contextmanager
def observed_step(work: str, provider: str, step: str) -> Iterator[None]:
    """Count and time the block, one provider step of `work` (fulfilment, correction)."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as raised:
        error = raised
        raise
    finally:
        LATENCY.labels(work, provider, step).observe(time.perf_counter() - started)
        STEPS.labels(work, provider, step, outcome_of(error)).inc()
