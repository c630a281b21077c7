"""Keeps this process's matcher equal to the live blocklist in PostgreSQL.

At start: LISTEN on `bg_blocklist` first, then load every live entry, so no change falls between
the two. After that, each committed change arrives as a notification naming the changed ids
(see the migration's trigger). One consumer reads those rows again, in turn, so notifications
may come in any order or twice and the last read always reflects the last commit; a read that
fails is retried. A dropped connection is reopened (one reconnect at a time) and the whole list
loaded again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import time
from collections.abc import Coroutine
from typing import Any

import asyncpg

from gateway.core.db.connection import engine, fetch
from gateway.core.log import get_logger
from gateway.fraud import queries
from gateway.fraud.heap import return_free_memory
from gateway.fraud.matcher import Matcher
from gateway.metrics.fraud_mirror import record_lag, record_listening

CHANNEL = "bg_blocklist"
_RETRY_SECONDS = 1.0
_FETCHED = 10_000  # rows a round trip while loading
_SLICE = 1_000  # rows parsed between two turns of the event loop: 3 to 30 ms
_log = get_logger("fraud")


class BlocklistMirror:
    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one load at a time: start, reconnect or reload
        self._pending: set[int] = set()  # ids notified and not read again yet
        self._pending_since: float | None = None  # monotonic time the oldest of them came
        self._loading = False  # while a load runs, notified ids wait for it
        self._consumer: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the connection serves

    def _follow_the_running_loop(self) -> None:
        """A CLI command (the demo seed) may have started the mirror on an event loop that has
        since closed: its connection is dead with it. Start afresh on this loop."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._connection = None
            self._consumer = self._reconnecting = None
            self._lock = asyncio.Lock()

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def ensure_started(self) -> None:
        """Start once, on first use (the app's lifespan starts it; in-process test clients
        run no lifespan). Raises OSError or asyncpg.PostgresError when PostgreSQL is down."""
        self._follow_the_running_loop()
        if self.listening:
            return
        async with self._lock:
            if not self.listening:
                await self._connect_and_load()

    async def _connect_and_load(self) -> None:
        """Under `_lock`."""
        self._loading = True
        connection = await asyncpg.connect(engine().config["dsn"])
        try:
            await connection.add_listener(CHANNEL, self._notified)
            self.matcher = await _load(connection)  # screens read `mirror.matcher`: atomic swap
        except BaseException:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await connection.close()
            raise
        finally:
            self._loading = False
        connection.add_termination_listener(self._lost)
        self._connection = connection
        record_listening(True)
        _out_of_the_collectors_way()
        self._wake_consumer()  # ids notified during the load: changed after its snapshot
        _log.info("blocklist loaded", entries=len(self.matcher))

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        self._pending.update(int(part) for part in payload.split(",") if part)
        if not self._loading:
            self._wake_consumer()

    def _wake_consumer(self) -> None:
        if self._pending and (self._consumer is None or self._consumer.done()):
            self._consumer = _detached(self._consume())

    async def _consume(self) -> None:
        while self._pending and not self._stopping:
            ids, self._pending = self._pending, set()
            since, self._pending_since = self._pending_since, None
            try:
                await self.refresh(sorted(ids))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                self._pending |= ids  # read them again once PostgreSQL answers
                self._pending_since = since
                record_lag(_age(since))  # grows at each retry while the changes wait
                _log.warning("blocklist change not read yet; retrying", error=str(error))
                await asyncio.sleep(_RETRY_SECONDS)
            else:
                record_lag(_age(since))

    def _lost(self, _connection: Any) -> None:
        if self._stopping or (self._reconnecting and not self._reconnecting.done()):
            return
        _log.warning("blocklist listener lost its connection; reconnecting")
        record_listening(False)
        self._reconnecting = _detached(self._reconnect())

    async def _reconnect(self) -> None:
        while not self._stopping:
            try:
                async with self._lock:
                    if not self.listening:
                        await self._connect_and_load()
                return
            except (OSError, asyncpg.PostgresError) as error:
                _log.warning("blocklist listener cannot reconnect yet", error=str(error))
                await asyncio.sleep(_RETRY_SECONDS)

    async def refresh(self, entry_ids: list[int]) -> None:
        """Read these entries again and apply what they are now: live, removed or gone."""
        rows = await fetch(queries.MIRROR_SOME, entry_ids)
        self.apply(rows)
        self.matcher.remove(set(entry_ids) - {row["id"] for row in rows})

    def apply(self, rows: list[dict[str, Any]]) -> None:
        """Rows with id, kind, value, expires (epoch) and live."""
        self.matcher.upsert(
            (row["id"], row["kind"], row["value"], row["expires"]) for row in rows if row["live"]
        )
        self.matcher.remove(row["id"] for row in rows if not row["live"])

    async def reload(self) -> None:
        """Load the whole list again, on the pool: for a TRUNCATE, which notifies nothing."""
        self._follow_the_running_loop()
        pool = engine().pool
        assert pool is not None, "start_pool() first"
        async with self._lock, pool.acquire() as connection:
            self.matcher = await _load(connection)
        _out_of_the_collectors_way()

    async def stop(self) -> None:
        if self._loop is not asyncio.get_running_loop():
            return  # started on another loop, gone with it
        self._stopping = True
        for task in (self._consumer, self._reconnecting):
            if task is not None:
                task.cancel()
        if self.listening:
            assert self._connection is not None
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self._connection.close()
        self._connection = None
        record_listening(False)


def _age(since: float | None) -> float:
    return time.monotonic() - since if since is not None else 0.0


def _detached(work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """A task with a context of its own: the mirror may first start inside a caller's
    transaction, whose connection its later reads must never use (Piccolo finds the current
    transaction in a context variable, which a task would otherwise inherit)."""
    return asyncio.get_running_loop().create_task(work, context=contextvars.Context())


async def _load(connection: Any) -> Matcher:
    """The whole list, into a matcher sized for it first. Parsed a slice at a time, giving
    the event loop back between slices: screens keep being answered (by the matcher this one
    replaces) while a million entries load, about 5 seconds."""
    fresh = Matcher()
    async with connection.transaction():
        fresh.reserve(**dict(await connection.fetchrow(queries.MIRROR_SIZES)))
        cursor = await connection.cursor(queries.MIRROR_ALL)
        while rows := await cursor.fetch(_FETCHED):
            for start in range(0, len(rows), _SLICE):
                fresh.upsert(
                    (row["id"], row["kind"], row["value"], row["expires"])
                    for row in rows[start : start + _SLICE]
                )
                await asyncio.sleep(0)
    return fresh


def _out_of_the_collectors_way() -> None:
    """A million entries are millions of objects that the cyclic garbage collector would
    otherwise walk at every full collection (hundreds of milliseconds, a screening request's
    p99). They live as long as the process: freeze them, as gc.freeze() is meant for. The
    load's growth steps, freed, go back to the system."""
    gc.collect()
    gc.freeze()
    return_free_memory()
