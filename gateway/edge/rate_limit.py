"""Per-API-key request budget, a sliding window kept by the `limits` library in the shared store
(gateway/edge/limits_storage.py): one budget however many gateway processes serve the key. A busy
key's budget is claimed from the store in chunks (gateway/edge/budget_lease.py).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage

from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.budget_lease import LeasedBudgets
from gateway.edge.failure_limit import FailureLimit, TooManyFailuresError
from gateway.edge.limits_storage import SharedRateLimiter

T = TypeVar("T")

# Failed authentications allowed per client address and minute: enough for a misconfigured
# tool to notice, too few to guess keys or to make every bad request cost a database look-up.
FAILED_AUTHENTICATIONS_PER_MINUTE = 120


class ApiKeyRateLimiter:
    def __init__(self, default_per_minute: int, storage: Storage | None = None) -> None:
        self._default = default_per_minute
        storage = storage or MemoryStorage()  # limits_storage(settings); memory for one process
        self._limiter = SharedRateLimiter(storage)
        self._budgets = LeasedBudgets(self._limiter)
        self._failures = FailureLimit(
            FAILED_AUTHENTICATIONS_PER_MINUTE, "failed-auth", count_in_flight=False, storage=storage
        )

    def __deepcopy__(self, _memo: dict[int, object]) -> ApiKeyRateLimiter:
        # Litestar copies middleware while building routes; every copy must share one window.
        return self

    async def check(self, key_id: str, per_minute: int | None) -> None:
        item = _per_minute(per_minute or self._default)
        if not await self._budgets.hit(item, key_id):
            await self._refuse(item, (key_id,), "This API key is over its limit")

    async def authenticating(self, address: str, check: Callable[[], Awaitable[T]]) -> T:
        """`check` (the key check) under `authentication(address)`; for an address not seen
        failing lately, without its context managers (every request pays them)."""
        if not self._failures.unwatched(address):
            async with self.authentication(address):
                return await check()
        try:
            return await check()
        except BillingError as error:
            if error.code is ErrorCode.UNAUTHENTICATED:
                await self._failures.count_failure(address)
            raise

    @asynccontextmanager
    async def authentication(self, address: str) -> AsyncIterator[None]:
        """Around the key check: refuses an address over its failure allowance, whatever key it
        sends now, and counts the check as a failure when it ends in `unauthenticated`."""
        try:
            async with self._failures.attempt(address) as attempt:
                try:
                    yield
                except BillingError as error:
                    attempt.failed = error.code is ErrorCode.UNAUTHENTICATED
                    raise
        except TooManyFailuresError as over:
            raise BillingError(
                ErrorCode.RATE_LIMITED,
                "Too many requests with a bad API key came from this address: the limit is "
                f"{over.per_minute} a minute; retry in {over.retry_after_seconds} s.",
                headers={"Retry-After": str(over.retry_after_seconds)},
            ) from None

    async def _refuse(
        self, item: RateLimitItemPerMinute, identifiers: tuple[str, ...], reason: str
    ) -> None:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise BillingError(
            ErrorCode.RATE_LIMITED,
            f"{reason} of {item.amount} requests a minute; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


@functools.lru_cache(maxsize=256)
def _per_minute(amount: int) -> RateLimitItemPerMinute:
    return RateLimitItemPerMinute(amount)
