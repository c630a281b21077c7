"""How the gateway calls a provider during an Apply: never into an outage (a circuit per
provider, which also lets Apply answer 503 with Retry-After at once), and retrying
unavailability with backoff and jitter until the run's deadline. Refusals are not retried:
they are answers. The rate limit is below, on every HTTP call to a provider (adapters/pacing.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from gateway.core.errors import BillingError, ErrorCode, is_unavailable
from gateway.i18n import Message
from gateway.metrics.circuits import record_circuit
from settings import Settings

T = TypeVar("T")
OPENED = "opened"


def _is_answer(error: BaseException) -> bool:
    """A refusal is the provider working: it never opens the circuit."""
    return not is_unavailable(error)


class ProviderGuard:
    def __init__(self, settings: Settings) -> None:
        self._open_seconds = settings.provider_circuit_open_seconds
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.provider_circuit_failures,
            default_ttl=self._open_seconds,
            exclude=[(Exception, _is_answer)],
        )

    async def retry_after(self, provider: str) -> int | None:
        """Seconds until `provider`'s circuit lets a call through again; None while closed."""
        breaker = await self._breakers.get_breaker(provider)
        context = breaker.context
        if context.state != OPENED or context.opened_at is None:
            return None
        left = context.opened_at + context.ttl - time.time()
        return max(1, math.ceil(left)) if left > 0 else None

    async def refuse_if_open(self, provider: str) -> None:
        seconds = await self.retry_after(provider)
        if seconds is not None:
            record_circuit(provider, OPENED)
            raise _unavailable(provider, seconds)

    async def call_once(self, provider: str, call: Callable[[], Awaitable[T]]) -> T:
        """One call under the circuit (an open circuit: 503 at once)."""
        await self.refuse_if_open(provider)
        breaker = await self._breakers.get_breaker(provider)
        try:
            async with breaker:
                return await call()
        except OpenedState:  # opened by a concurrent call in the meantime
            raise _unavailable(provider, self._open_seconds) from None
        finally:
            record_circuit(provider, breaker.context.state)

    async def call(
        self, provider: str, call: Callable[[], Awaitable[T]], *, deadline: datetime
    ) -> T:
        """`call` until it answers, retrying unavailability until `deadline`; the last error
        is raised when the deadline comes."""

        def before_deadline(state: RetryCallState) -> bool:
            upcoming = state.upcoming_sleep or 0.0
            return datetime.now(UTC).timestamp() + upcoming >= deadline.timestamp()

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_unavailable),
            stop=before_deadline,
            wait=wait_exponential_jitter(multiplier=0.2, max=20.0, jitter=1.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self.call_once(provider, call)
        raise AssertionError("unreachable: tenacity re-raises the last error")


def _unavailable(provider: str, seconds: int) -> BillingError:
    return BillingError(
        ErrorCode.PROVIDER_UNAVAILABLE,
        Message(
            "{provider} is unavailable right now, so nothing was changed there; try again in "
            "{seconds} seconds.",
            provider=provider.capitalize(),
            seconds=seconds,
        ),
        extra={"provider": provider},
        headers={"Retry-After": str(seconds)},
    )
