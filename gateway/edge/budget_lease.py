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
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

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


class LeasedBudgets:
    def __init__(self, limiter: SharedRateLimiter) -> None:
        self._limiter = limiter
        self._leases: dict[tuple[str, int], _Lease] = {}

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """One unit of `key`'s budget, from this process's lease or the store."""
        lease = self._lease(item, key)
        loop = asyncio.get_running_loop()
        while True:
            now = time.monotonic()
            if lease.left > 0 and now < lease.until:
                lease.left -= 1
                if lease.left == lease.chunk // REFILL_AT and not lease.spare:
                    self._refill_soon(item, key, lease, loop)
                return True
            if lease.spare > 0 and now < lease.spare_until:
                lease.left, lease.until, lease.spare = lease.spare, lease.spare_until, 0
                continue
            claim = lease.claim
            if claim is None or claim.done() or claim.get_loop() is not loop:
                break
            if not await asyncio.shield(claim):
                return False  # the store refused the claim: over the budget
        claim = lease.claim = loop.create_task(self._claim(item, key, lease))
        return await asyncio.shield(claim)  # a caller that goes away cancels no one's claim

    def _refill_soon(
        self, item: RateLimitItem, key: str, lease: _Lease, loop: asyncio.AbstractEventLoop
    ) -> None:
        claim = lease.claim
        if lease.chunk >= REFILL_AT and (
            claim is None or claim.done() or claim.get_loop() is not loop
        ):
            lease.claim = loop.create_task(self._refill(item, key, lease))
            lease.claim.add_done_callback(_collected)

    async def _refill(self, item: RateLimitItem, key: str, lease: _Lease) -> bool:
        """Claims the spare chunk, doubled (this lease went quickly). Refused near the limit, it
        leaves the rest to `_claim`, unit by unit; it is True so that waiters look again."""
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


def _collected(claim: asyncio.Task[bool]) -> None:
    """A claim made ahead that nobody awaited: its failure (the store is down) reaches the next
    request's own claim, not the log as "Task exception was never retrieved"."""
    if not claim.cancelled():
        claim.exception()
