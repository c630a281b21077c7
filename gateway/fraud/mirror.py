"""Keeps this process's matcher equal to the live blocklist in PostgreSQL.

At start: LISTEN on `bg_blocklist` first, then load every live entry, so no change falls between
the two. After that, each committed change arrives as a notification naming the changed ids
(see the migration's trigger); the rows are read again, so notifications may come in any order
or twice. A dropped connection is reopened and the whole list loaded again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import Any

import asyncpg

from gateway.db.connection import engine, fetch
from gateway.fraud.matcher import Matcher
from gateway.log import get_logger

CHANNEL = "bg_blocklist"
_LIVE = (
    "SELECT id, kind, value, extract(epoch FROM expires_at)::float8 AS expires"
    " FROM blocklist_entries WHERE removed_at IS NULL"
)
_BY_IDS = (
    "SELECT id, kind, value, extract(epoch FROM expires_at)::float8 AS expires,"
    " removed_at IS NULL AS live FROM blocklist_entries WHERE id = ANY($1::bigint[])"
)
_RECONNECT_SECONDS = 1.0
_log = get_logger("fraud")


class BlocklistMirror:
    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self._connection: asyncpg.Connection | None = None
        self._started: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._held: list[int] | None = None  # ids notified while a load is running

    async def ensure_started(self) -> None:
        """Start once, on first use (the app's lifespan starts it; in-process test clients
        run no lifespan)."""
        if self._connection is not None and not self._connection.is_closed():
            return
        if self._started is None:
            self._started = asyncio.Lock()
        async with self._started:
            if self._connection is None or self._connection.is_closed():
                await self._connect_and_load()

    async def _connect_and_load(self) -> None:
        self._held = []
        connection = await asyncpg.connect(engine().config["dsn"])
        await connection.add_listener(CHANNEL, self._notified)
        connection.add_termination_listener(self._lost)
        self.matcher = await _load(connection)  # screens read `mirror.matcher`: an atomic swap
        _out_of_the_collectors_way()
        self._connection = connection
        held, self._held = self._held, None
        if held:  # changed after the load's snapshot was taken
            await self.refresh(held)
        _log.info("blocklist loaded", entries=len(self.matcher))

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        ids = [int(part) for part in payload.split(",") if part]
        if self._held is not None:
            self._held.extend(ids)
        else:
            self._spawn(self.refresh(ids))

    def _lost(self, _connection: Any) -> None:
        if not self._stopping:
            _log.warning("blocklist listener lost its connection; reconnecting")
            self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        while not self._stopping:
            try:
                await self._connect_and_load()
                return
            except (OSError, asyncpg.PostgresError) as error:
                _log.warning("blocklist listener cannot reconnect yet", error=str(error))
                await asyncio.sleep(_RECONNECT_SECONDS)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self, entry_ids: list[int]) -> None:
        """Read these entries again and apply what they are now: live, removed or gone."""
        rows = await fetch(_BY_IDS, entry_ids)
        self.apply(rows)
        self.matcher.remove(set(entry_ids) - {row["id"] for row in rows})

    def apply(self, rows: list[dict[str, Any]]) -> None:
        """Rows with id, kind, value, expires (epoch) and live."""
        self.matcher.upsert(
            (row["id"], row["kind"], row["value"], row["expires"]) for row in rows if row["live"]
        )
        self.matcher.remove(row["id"] for row in rows if not row["live"])

    async def reload(self) -> None:
        """Load the whole list again: after a TRUNCATE, which notifies nothing."""
        pool = engine().pool
        assert pool is not None, "start_pool() first"
        async with pool.acquire() as connection:
            self.matcher = await _load(connection)
        _out_of_the_collectors_way()

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        if self._connection is not None and not self._connection.is_closed():
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._connection.close()
        self._connection = None


async def _load(connection: Any) -> Matcher:
    fresh = Matcher()
    async with connection.transaction():
        cursor = await connection.cursor(_LIVE)
        while rows := await cursor.fetch(20_000):
            fresh.upsert((row["id"], row["kind"], row["value"], row["expires"]) for row in rows)
    return fresh


def _out_of_the_collectors_way() -> None:
    """A million entries are millions of objects that the cyclic garbage collector would
    otherwise walk at every full collection (hundreds of milliseconds, a screening request's
    p99). They live as long as the process: freeze them, as gc.freeze() is meant for."""
    gc.collect()
    gc.freeze()
