"""A busy key's shared budget spent in chunks: one round trip to the store claims several units,
which this process then spends locally.

The chunk adapts per key and process: it starts at 1, doubles while a lease is used up within
its life, halves when one expires unspent, and is at most 1/1000 of the budget (so budgets under
2,000 a minute always go to the store, one unit at a time). Near the limit a chunk the store
refuses is retried as a single unit and the key goes back to single units, so every unit of the
budget can still be admitted, and never more: units are counted in the store when claimed. A unit
claimed and not spent within LEASE_SECONDS is dropped (the budget under-admits, never over), so
that a claim made in one window is not spent in a later one.

A busy key's next chunk is claimed in the background once three quarters of the current one are
spent (REFILL_AT), and kept as a spare lease of its own life: otherwise every request arriving
during a claim waited for the store's round trip, which under load was the screens' p99.

Requests that find the lease empty while a claim is under way queue in arrival order, and a
claim's units are handed to as many of them as it brought: the rest stay parked for the next
claim, woken once, not at every claim (waking every waiter made a burst of 12,000 concurrent
requests on one key cost 5 s of CPU, 98 s under a 5,000 budget claimed unit by unit).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from dataclasses import dataclass, field

from limits import RateLimitItem

from gateway.edge.limits_storage import SharedRateLimiter

LEASE_SECONDS = 1.0
MAX_CHUNK = 128
BUDGET_SHARE = 1000  # a chunk is at most this fraction of the budget
_MAX_KEYS = 10_000
REFILL_AT = 4  # the next chunk is claimed when 1/REFILL_AT of this one is left


@dataclass
class _Lease:
    left: int = 0
    until: float = 0.0  # monotonic
    chunk: int = 1
    # The claim under way: requests arriving meanwhile wait for it and take units from it, rather
    # than each sending a claim of its own (concurrent updates of one row queue in the store).
    claim: asyncio.Task[bool] | None = None
    # The next chunk, claimed ahead; spent once this lease is (its units keep their own life).
    spare: int = 0
    spare_until: float = 0.0
    # Requests waiting for a unit, first come first served: each gets True, False (over the
    # budget) or the store's error.
    waiting: deque[asyncio.Future[bool]] = field(default_factory=deque)


class LeasedBudgets:
    def __init__(self, limiter: SharedRateLimiter) -> None:
        self._limiter = limiter
        self._leases: dict[tuple[str, int], _Lease] = {}

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """One unit of `key`'s budget, from this process's lease or the store."""
        lease = self._lease(item, key)
        loop = asyncio.get_running_loop()
        if _take(lease):
            if lease.left == lease.chunk // REFILL_AT and not lease.spare:
                self._refill_soon(item, key, lease, loop)
            return True
        claim = lease.claim
        if claim is not None and not claim.done() and claim.get_loop() is loop:
            waiter: asyncio.Future[bool] = loop.create_future()
            lease.waiting.append(waiter)
            return await waiter
        return await asyncio.shield(self._start_claim(item, key, lease, loop))

    def _start_claim(
        self, item: RateLimitItem, key: str, lease: _Lease, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Task[bool]:
        """A claim whose first unit goes to the request that starts it (a caller that goes
        away cancels no one's claim); once it ends, the units left go to the waiting."""
        claim = lease.claim = loop.create_task(self._claim(item, key, lease))
        claim.add_done_callback(lambda ended: self._hand_out(item, key, lease, ended, loop))
        return claim

    def _hand_out(
        self,
        item: RateLimitItem,
        key: str,
        lease: _Lease,
        ended: asyncio.Task[bool],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """After a claim: a unit each to the waiting, in order, while the lease has some; a
        refused claim refuses them all, a failed one fails them all. The first still waiting
        when the units run out starts the next claim, as if it had just arrived; the others
        wait on."""
        waiting = lease.waiting
        if ended.cancelled():  # the loop is closing
            while waiting:
                if (waiter := waiting.popleft()).get_loop() is loop:
                    waiter.cancel()
            return
        failed = ended.exception()
        refused = failed is None and ended.result() is False
        while waiting:
            waiter = waiting.popleft()
            if waiter.done() or waiter.get_loop() is not loop:  # gone, or an old loop's
                continue
            if failed is not None:
                waiter.set_exception(failed)
            elif refused:
                waiter.set_result(False)
            elif _take(lease):
                waiter.set_result(True)
            elif (
                (current := lease.claim) is not ended
                and current is not None
                and not current.done()
                and current.get_loop() is loop
            ):
                waiting.appendleft(waiter)  # a claim is under way already: its end hands out
                return
            else:
                claim = self._start_claim(item, key, lease, loop)
                claim.add_done_callback(functools.partial(_settle, waiter))
                return

    def _refill_soon(
        self, item: RateLimitItem, key: str, lease: _Lease, loop: asyncio.AbstractEventLoop
    ) -> None:
        claim = lease.claim
        if lease.chunk >= REFILL_AT and (
            claim is None or claim.done() or claim.get_loop() is not loop
        ):
            refill = lease.claim = loop.create_task(self._refill(item, key, lease))
            refill.add_done_callback(_collected)
            refill.add_done_callback(lambda ended: self._hand_out(item, key, lease, ended, loop))

    async def _refill(self, item: RateLimitItem, key: str, lease: _Lease) -> bool:
        """Claims the spare chunk, doubled (this lease went quickly). Refused near the limit, it
        leaves the rest to `_claim`, unit by unit; it is True: the waiting are not refused."""
        chunk = min(max(1, min(MAX_CHUNK, item.amount // BUDGET_SHARE)), lease.chunk * 2)
        if await self._limiter.hit(item, key, cost=chunk):
            lease.chunk = lease.spare = chunk
            lease.spare_until = time.monotonic() + LEASE_SECONDS
        return True

    async def _claim(self, item: RateLimitItem, key: str, lease: _Lease) -> bool:
        """Claims a chunk and takes one unit of it for the request that started the claim."""
        now = time.monotonic()
        cap = max(1, min(MAX_CHUNK, item.amount // BUDGET_SHARE))
        if lease.left > 0 or lease.spare > 0:  # expired with units unspent: the key is quieter
            lease.spare = 0
            lease.chunk = max(1, lease.chunk // 2)
        elif now < lease.until:  # used up within its life: busy
            lease.chunk = min(cap, lease.chunk * 2)
        lease.left = 0
        chunk = min(lease.chunk, cap)
        if chunk > 1 and not await self._limiter.hit(item, key, cost=chunk):
            lease.chunk = chunk = 1  # near the limit: one unit at a time, to spend the last ones
        if chunk == 1 and not await self._limiter.hit(item, key):
            lease.until = 0.0  # refused: no reason to grow the next claim
            return False
        lease.left = chunk - 1
        lease.until = time.monotonic() + LEASE_SECONDS
        return True

    def _lease(self, item: RateLimitItem, key: str) -> _Lease:
        # by budget too: a key whose limit changes starts a lease of the new budget
        found = self._leases.get((key, item.amount))
        if found is None:
            if len(self._leases) >= _MAX_KEYS:
                self._leases.clear()
            found = self._leases[(key, item.amount)] = _Lease()
        return found


def _take(lease: _Lease) -> bool:
    """A unit from the lease, or its spare once it is spent, if either is still live."""
    now = time.monotonic()
    if lease.left <= 0 or now >= lease.until:
        if lease.spare <= 0 or now >= lease.spare_until:
            return False
        lease.left, lease.until, lease.spare = lease.spare, lease.spare_until, 0
    lease.left -= 1
    return True


def _settle(waiter: asyncio.Future[bool], claim: asyncio.Task[bool]) -> None:
    """The claim's answer to the waiting request it was started for."""
    if waiter.done():
        return  # gone: its unit is dropped (the budget under-admits, never over)
    if claim.cancelled():
        waiter.cancel()
    elif (failed := claim.exception()) is not None:
        waiter.set_exception(failed)
    else:
        waiter.set_result(claim.result())


def _collected(claim: asyncio.Task[bool]) -> None:
    """A claim made ahead that nobody awaited: its failure (the store is down) reaches the next
    request's own claim, not the log as "Task exception was never retrieved"."""
    if not claim.cancelled():
        claim.exception()
