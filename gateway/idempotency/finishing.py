"""The last touch on a claim (complete, release or abandon) when the database is down.

That touch cannot be skipped: a claim left running holds its key against every retry until
`LOCK_TIMEOUT`, although this process (alive, its lease held) has long stopped working on it.
So a touch that meets a database outage is kept here and tried again in the background until
PostgreSQL answers, and first of all when a retry with the same key reaches this process.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import Awaitable, Callable

from gateway.core.db.outage import is_database_outage
from gateway.core.log import get_logger

Touch = Callable[[], Awaitable[None]]
_RETRY_SECONDS = 0.5
_log = get_logger("gateway.idempotency")


class PendingTouches:
    def __init__(self) -> None:
        self._pending: dict[tuple[uuid.UUID, str], Touch] = {}
        self._retrying: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._pending)

    async def apply(self, api_key_id: uuid.UUID, key: str, touch: Touch) -> bool:
        """Run `touch` now; False (and kept for later) when the database is unreachable."""
        try:
            await touch()
        except Exception as error:
            if not is_database_outage(error):
                raise
            self._pending[(api_key_id, key)] = touch
            self._retry_in_background()
            return False
        return True

    async def settle(self, api_key_id: uuid.UUID, key: str) -> None:
        """Before claiming a key again: finish what this process left pending on it. Raises
        while the database is still unreachable (the claim would fail the same way)."""
        touch = self._pending.pop((api_key_id, key), None)
        if touch is None:
            return
        try:
            await touch()
        except Exception as error:
            if is_database_outage(error):
                self._pending.setdefault((api_key_id, key), touch)
                raise
            _log.exception("idempotency claim could not be finished; dropped")

    def _retry_in_background(self) -> None:
        if self._retrying is None or self._retrying.done():
            # A context of its own: never a caller's Piccolo transaction.
            self._retrying = asyncio.get_running_loop().create_task(
                self._retry(), context=contextvars.Context()
            )

    async def _retry(self) -> None:
        while self._pending:
            await asyncio.sleep(_RETRY_SECONDS)
            for slot, touch in list(self._pending.items()):
                try:
                    await touch()
                except Exception as error:
                    if is_database_outage(error):
                        break  # still down: try them all again later
                    _log.exception("idempotency claim could not be finished; dropped")
                if self._pending.get(slot) is touch:
                    del self._pending[slot]
        _log.info("idempotency claims left by the database outage are finished")


pending = PendingTouches()
