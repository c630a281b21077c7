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


class ApiKeyRateLimiter:
    def __init__(self, default_per_minute: int) -> None:
        self._default = default_per_minute
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def __deepcopy__(self, _memo: dict[int, object]) -> ApiKeyRateLimiter:
        # Litestar copies middleware while building routes; every copy must share one window.
        return self

    async def check(self, key_id: str, per_minute: int | None) -> None:
        item = RateLimitItemPerMinute(per_minute or self._default)
        if await self._limiter.hit(item, key_id):
            return
        stats = await self._limiter.get_window_stats(item, key_id)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise BillingError(
            ErrorCode.RATE_LIMITED,
            f"This API key is over its limit of {item.amount} requests a minute; "
            f"retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
