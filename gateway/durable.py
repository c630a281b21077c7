"""Work advanced by one job per item, never by two processes at once: the shared part of the
Apply runs (gateway/fulfilment/jobs.py) and the corrections (gateway/corrections/jobs.py).

Mutual exclusion is a PostgreSQL session advisory lock per item, held on a connection of its
own for the whole advance: PostgreSQL releases it the moment the holder's process dies, so a
killed gateway's item is resumed as soon as a worker runs again. (Procrastinate's job `lock`
would stay held by the dead worker's job, `doing`, until that worker counts as gone, 15
minutes; see gateway/job_worker.py.)

Who resumes an item nobody advances: each worker when it starts (a running item whose lock is
free is nobody's), and a minute sweep for items `running` without progress for a while whose
lock is free (a process killed while others live on, or a deferral lost with the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from gateway.core.db.connection import engine, fetch

LOCK_TRIES = 10  # a job that finds the item held waits this many times…
LOCK_PAUSE_SECONDS = 0.3  # …this long, for a holder finishing its last step


@dataclass(frozen=True)
class LockedWork:
    """`namespace` names the locks (`fulfilment:<id>`); `table` holds the items, with `id`,
    `status` and `updated_at` (a constant of the code, never user input)."""

    namespace: str
    table: str

    def lock_name(self, item_id: UUID | str) -> str:
        return f"{self.namespace}:{item_id}"

    @contextlib.asynccontextmanager
    async def advancing(self, item_id: UUID) -> AsyncIterator[bool]:
        """Holds the item's advisory lock on a connection of its own while the block runs;
        yields False (at once, or after a short wait) when another session holds it."""
        # The lock's key: a 64-bit hash of the item's name, computed by PostgreSQL (the same
        # expression in `stalled`).
        try_lock = "SELECT pg_try_advisory_lock(hashtextextended($1::text, 0))"
        connection = await asyncpg.connect(engine().config["dsn"])
        try:
            for attempt in range(LOCK_TRIES):
                if await connection.fetchval(try_lock, self.lock_name(item_id)):
                    break
                if attempt < LOCK_TRIES - 1:
                    await asyncio.sleep(LOCK_PAUSE_SECONDS)
            else:
                yield False
                return
            yield True  # closing the connection releases the lock; so does the process dying
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)

    async def stalled(self, seconds: float) -> list[UUID]:
        """Running items without progress for `seconds` that no session is advancing (the
        lock is tried and let go in one statement: CASE evaluates in order)."""
        key = f"hashtextextended('{self.namespace}:' || id::text, 0)"
        rows = await fetch(
            f"SELECT id FROM (SELECT id, updated_at FROM {self.table}"  # noqa: S608 (constants)
            " WHERE status = 'running' AND updated_at <= now() - make_interval(secs => $1)"
            " ORDER BY updated_at LIMIT 500) AS quiet"
            f" WHERE CASE WHEN pg_try_advisory_lock({key}) THEN pg_advisory_unlock({key})"
            " ELSE false END ORDER BY updated_at",
            float(seconds),
        )
        return [row["id"] for row in rows]

    async def resume(self, seconds: float, defer: Callable[[UUID], Awaitable[None]]) -> list[UUID]:
        """Defer the job of every stalled item; returns them."""
        stalled = await self.stalled(seconds)
        for item_id in stalled:
            await defer(item_id)
        return stalled
