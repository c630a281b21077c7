"""The Apply worker: one job per run, and never two processes advancing the same run at once.

Mutual exclusion is a PostgreSQL session advisory lock per run, held on a connection of its
own for the whole advance: PostgreSQL releases it the moment the holder's process dies, so a
killed gateway's run can be resumed as soon as a worker runs again. (Procrastinate's job
`lock` would stay held by the dead worker's job, `doing`, until that worker counts as gone,
15 minutes; see gateway/job_worker.py.) `queueing_lock` keeps at most one job waiting per run.

Who resumes a run nobody advances: each worker when it starts (a run whose lock is free is
nobody's), and a sweep every minute for runs `running` without step progress for
`STALLED_AFTER_SECONDS` whose lock is free (a process killed while others live on, or a
deferral lost with the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
from procrastinate.exceptions import AlreadyEnqueued

from gateway.db.connection import engine, fetch
from gateway.job_worker import on_worker_start
from gateway.jobs import job_app
from gateway.log import get_logger

QUEUE = "fulfilment"
STALLED_AFTER_SECONDS = 30
LOCK_TRIES = 10  # a job that finds the run held waits this many times…
LOCK_PAUSE_SECONDS = 0.3  # …this long, for a holder finishing its last step
_log = get_logger("gateway.fulfilment")

# The advisory lock's key: a 64-bit hash of the run's name, computed by PostgreSQL (the same
# expression in `stalled_runs`).
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('fulfilment:' || $1::text, 0))"


def run_lock(run_id: UUID | str) -> str:
    return f"fulfilment:{run_id}"


@contextlib.asynccontextmanager
async def advancing(run_id: UUID) -> AsyncIterator[bool]:
    """Holds the run's advisory lock on a connection of its own while the block runs; yields
    False (at once, or after a short wait) when another session holds it."""
    connection = await asyncpg.connect(engine().config["dsn"])
    try:
        for attempt in range(LOCK_TRIES):
            if await connection.fetchval(_TRY_LOCK, str(run_id)):
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


@job_app.task(name="fulfilment.advance_run", queue=QUEUE, retry=3)
async def advance_fulfilment_run(run_id: str) -> str:
    from gateway.fulfilment.wiring import fulfilment_service

    async with advancing(UUID(run_id)) as held:
        if not held:
            return "advanced elsewhere"  # its holder goes on; if it dies, the sweep sees it
        return await fulfilment_service().advance(UUID(run_id))


async def defer_run(run_id: UUID) -> None:
    """Queue the run's job once (a second deferral while one waits is the same work)."""
    with contextlib.suppress(AlreadyEnqueued):
        await advance_fulfilment_run.configure(queueing_lock=run_lock(run_id)).defer_async(
            run_id=str(run_id)
        )


async def stalled_runs(seconds: float = STALLED_AFTER_SECONDS) -> list[UUID]:
    """Running runs without step progress for `seconds` that no session is advancing (the
    lock is tried and let go in one statement: CASE evaluates in order)."""
    rows = await fetch(
        "SELECT id FROM (SELECT id, updated_at FROM fulfilment_runs WHERE status = 'running'"
        " AND updated_at <= now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 500)"
        " AS quiet WHERE CASE"
        " WHEN pg_try_advisory_lock(hashtextextended('fulfilment:' || id::text, 0))"
        " THEN pg_advisory_unlock(hashtextextended('fulfilment:' || id::text, 0))"
        " ELSE false END ORDER BY updated_at",
        float(seconds),
    )
    return [row["id"] for row in rows]


async def resume_runs(seconds: float) -> int:
    stalled = await stalled_runs(seconds)
    for run_id in stalled:
        await defer_run(run_id)
    if stalled:
        _log.info("fulfilment runs resumed", runs=len(stalled))
    return len(stalled)


@on_worker_start
async def resume_orphaned_runs() -> None:
    """A worker starting: every running run whose lock is free has nobody advancing it (its
    process died), however recent its last step."""
    await resume_runs(0)


@job_app.periodic(cron="* * * * *")
@job_app.task(name="fulfilment.sweep", queueing_lock="fulfilment.sweep", queue=QUEUE)
async def sweep_runs(timestamp: int) -> int:
    return await resume_runs(STALLED_AFTER_SECONDS)
