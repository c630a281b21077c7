"""Failed attempts per client address and minute, in a sliding window kept by `limits` in the
shared store (gateway/edge/limits_storage.py): every process and machine counts against one
allowance. Attempts still in flight are counted in this process only.

Only failures use up an address's allowance, so a busy client that gets its key or password right
is never slowed down; once an address is over, every attempt from it is refused, right or wrong,
until the window has moved on. Where a single guess is worth having (a staff password), attempts
still being checked count as failures until they end, so a burst sent all at once gets no more
tries than the allowance. An API key (128 random bits) is not worth guessing in a burst, and
counting in-flight checks would refuse a busy client's valid keys, so that limit counts only
finished failures.

That limit sees every API request, so it does not ask the shared store about an address this
process has not seen fail in the last two windows (a sliding window still weighs the previous
one): a clean client costs no round trip. An address failing only on other processes gets, on
this one, its first failure through before it is checked here too: at most one attempt per
process beyond the allowance.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage

from gateway.edge.limits_storage import SharedRateLimiter


@functools.lru_cache(maxsize=4096)  # parsing an address costs more than the rest of the check
def bucket_of(address: str) -> str:
    """Who an address stands for: an IPv6 host commonly holds a whole /64 and could change
    address at every try, so IPv6 counts by /64; an IPv4-mapped address as its IPv4."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", a test client's name
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address


class TooManyFailuresError(Exception):
    def __init__(self, per_minute: int, retry_after_seconds: int) -> None:
        super().__init__(f"over {per_minute} failures a minute; retry in {retry_after_seconds} s")
        self.per_minute = per_minute
        self.retry_after_seconds = retry_after_seconds


@dataclass
class Attempt:
    failed: bool = False


class FailureLimit:
    def __init__(
        self,
        per_minute: int,
        namespace: str,
        *,
        count_in_flight: bool = True,
        storage: Storage | None = None,  # limits_storage(settings); memory for one process
    ) -> None:
        self._limiter = SharedRateLimiter(storage or MemoryStorage())
        self._window = RateLimitItemPerMinute(per_minute)
        self._namespace = namespace
        self._count_in_flight = count_in_flight
        self._pending: Counter[str] = Counter()
        # Addresses that failed here lately, with the monotonic time until which they are
        # checked against the shared store (every address when in-flight attempts count).
        self._suspects: dict[str, float] = {}
        self._suspect_for = 2 * self._window.get_expiry()

    @asynccontextmanager
    async def attempt(self, address: str) -> AsyncIterator[Attempt]:
        """Admit one attempt from `address` or raise `TooManyFailuresError`; the caller sets
        `failed` on the yielded attempt when it fails."""
        address = bucket_of(address)
        self._pending[address] += 1  # before any await: concurrent attempts see each other
        attempt = Attempt()
        try:
            cost = self._pending[address] if self._count_in_flight else 1
            if self._worth_checking(address) and not await self._limiter.test(
                self._window, self._namespace, address, cost=cost
            ):
                raise TooManyFailuresError(self._window.amount, await self._retry_after(address))
            yield attempt
        finally:
            try:
                if attempt.failed:  # counted before it stops being pending
                    self._suspect(address)
                    await self._limiter.hit(self._window, self._namespace, address)
            finally:
                self._pending[address] -= 1
                if not self._pending[address]:
                    del self._pending[address]

    def unwatched(self, address: str) -> bool:
        """True when an attempt from `address` needs no look-up at all (only finished failures
        count, and none from it here lately): the caller runs it bare and reports a failure
        with `count_failure`, with none of `attempt`'s bookkeeping."""
        return not self._count_in_flight and not self._worth_checking(bucket_of(address))

    async def count_failure(self, address: str) -> None:
        address = bucket_of(address)
        self._suspect(address)
        await self._limiter.hit(self._window, self._namespace, address)

    def _worth_checking(self, address: str) -> bool:
        if self._count_in_flight:
            return True
        until = self._suspects.get(address)
        return until is not None and time.monotonic() < until

    def _suspect(self, address: str) -> None:
        now = time.monotonic()
        if len(self._suspects) > 10_000:  # many addresses failing: keep only the live ones
            self._suspects = {key: until for key, until in self._suspects.items() if until > now}
        self._suspects[address] = now + self._suspect_for

    async def _retry_after(self, address: str) -> int:
        stats = await self._limiter.get_window_stats(self._window, self._namespace, address)
        return max(1, math.ceil(stats.reset_time - time.time()))
