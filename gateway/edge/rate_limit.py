"""Per-API-key request budget, a moving window kept by the `limits` library.

The window lives in this process; several gateway processes each grant the budget. A shared
store (limits supports Redis and others) can replace `MemoryStorage` without other changes.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gateway.errors import BillingError, ErrorCode

# Failed authentications allowed per client address and minute: enough for a misconfigured
# tool to notice, too few to guess keys or to make every bad request cost a database look-up.
FAILED_AUTHENTICATIONS_PER_MINUTE = 120


class ApiKeyRateLimiter:
    def __init__(self, default_per_minute: int) -> None:
        self._default = default_per_minute
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._failures = RateLimitItemPerMinute(FAILED_AUTHENTICATIONS_PER_MINUTE)

    def __deepcopy__(self, _memo: dict[int, object]) -> ApiKeyRateLimiter:
        # Litestar copies middleware while building routes; every copy must share one window.
        return self

    async def check(self, key_id: str, per_minute: int | None) -> None:
        item = RateLimitItemPerMinute(per_minute or self._default)
        if not await self._limiter.hit(item, key_id):
            await self._refuse(item, (key_id,), "This API key is over its limit")

    async def check_failures(self, address: str) -> None:
        """Refuse an address that failed authentication too often, before looking at its key."""
        if not await self._limiter.test(self._failures, "failed-auth", address):
            await self._refuse(
                self._failures,
                ("failed-auth", address),
                "Too many requests with a bad API key came from this address: the limit is",
            )

    async def count_failure(self, address: str) -> None:
        await self._limiter.hit(self._failures, "failed-auth", address)

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
