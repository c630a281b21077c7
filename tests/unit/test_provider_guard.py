"""A circuit per provider: outages open it (and Apply then answers 503 with Retry-After at
once); refusals are answers and never open it. (The rate limit is on every HTTP call to a
provider, below this: tests/unit/test_pacing.py.)"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.resilience import ProviderGuard
from settings import get_settings


def guard(**changes: object) -> ProviderGuard:
    settings = get_settings().model_copy(
        update={"provider_circuit_failures": 3, "provider_circuit_open_seconds": 30, **changes}
    )
    return ProviderGuard(settings)


async def down() -> None:
    raise BillingError(ErrorCode.PROVIDER_UNAVAILABLE, "Zuora is down.")


async def refused() -> None:
    raise BillingError(ErrorCode.PROVIDER_REJECTED, "Zuora refused a value.")


async def test_outages_open_the_circuit_and_a_call_is_refused_at_once() -> None:
    circuits = guard()
    for _ in range(3):
        with pytest.raises(BillingError):
            await circuits.call_once("zuora", down)
    assert 0 < (await circuits.retry_after("zuora") or 0) <= 30
    with pytest.raises(BillingError) as refused_at_once:
        await circuits.refuse_if_open("zuora")
    assert refused_at_once.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert int(refused_at_once.value.headers["Retry-After"]) <= 30
    assert await circuits.retry_after("stripe") is None  # one circuit per provider


async def test_refusals_never_open_the_circuit_and_are_not_retried() -> None:
    circuits = guard()
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1
        await refused()

    deadline = datetime.now(UTC) + timedelta(seconds=5)
    for _ in range(5):
        with pytest.raises(BillingError, match="refused"):
            await circuits.call("zuora", counted, deadline=deadline)
    assert calls == 5 and await circuits.retry_after("zuora") is None


async def test_unavailability_is_retried_until_it_answers() -> None:
    circuits = guard(provider_circuit_failures=10)
    answers = iter([BillingError(ErrorCode.PROVIDER_UNAVAILABLE, "busy"), None, None])

    async def flaky() -> str:
        error = next(answers)
        if error:
            raise error
        return "done"

    deadline = datetime.now(UTC) + timedelta(seconds=10)
    assert await circuits.call("stripe", flaky, deadline=deadline) == "done"


async def test_the_deadline_ends_the_retries() -> None:
    circuits = guard(provider_circuit_failures=1000)
    started = time.monotonic()
    with pytest.raises(BillingError, match="down"):
        await circuits.call("zuora", down, deadline=datetime.now(UTC) + timedelta(seconds=1))
    assert time.monotonic() - started < 3
