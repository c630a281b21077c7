"""Sign-in attempts per client address: the lockout protects one account, this protects the
server from one address trying many accounts (and from paying a password hash for each)."""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class SignInThrottle:
    def __init__(self, per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._window = RateLimitItemPerMinute(per_minute)

    async def allow(self, address: str) -> bool:
        return await self._limiter.hit(self._window, "staff-sign-in", address)
