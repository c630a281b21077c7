"""The corrections worker: one job per correction, and never two processes advancing the same
correction at once (a PostgreSQL session advisory lock per correction, held on a connection of
its own: released the moment its process dies, so a killed gateway's correction is resumed as
soon as a worker runs again). `queueing_lock` keeps at most one job waiting per correction.

Who resumes a correction nobody advances: each worker when it starts (a running correction
whose lock is free is nobody's), and a sweep every minute for corrections `running` without
step progress for `STALLED_AFTER_SECONDS` whose lock is free.
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

QUEUE = "corrections"
STALLED_AFTER_SECONDS = 30
LOCK_TRIES = 10
LOCK_PAUSE_SECONDS = 0.3
_log = get_logger("gateway.corrections")
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('correction:' || $1::text, 0))"


def correction_lock(correction_id: UUID | str) -> str:
    return f"correction:{correction_id}"


@contextlib.asynccontextmanager
async def advancing(correction_id: UUID) -> AsyncIterator[bool]:
    """Holds the correction's advisory lock on a connection of its own while the block runs;
    yields False (at once, or after a short wait) when another session holds it."""
    connection = await asyncpg.connect(engine().config["dsn"])
    try:
        for attempt in range(LOCK_TRIES):
            if await connection.fetchval(_TRY_LOCK, str(correction_id)):
                break
            if attempt < LOCK_TRIES - 1:
                await asyncio.sleep(LOCK_PAUSE_SECONDS)
        else:
            yield False
            return
        yield True
    finally:
        with contextlib.suppress(Exception):
            await connection.close(timeout=5)


@job_app.task(name="corrections.advance", queue=QUEUE, retry=3)
async def advance_correction(correction_id: str) -> str:
    from gateway.corrections.wiring import correction_service

    async with advancing(UUID(correction_id)) as held:
        if not held:
            return "advanced elsewhere"
        return await correction_service().advance(UUID(correction_id))


async def defer_correction(correction_id: UUID) -> None:
    with contextlib.suppress(AlreadyEnqueued):
        await advance_correction.configure(
            queueing_lock=correction_lock(correction_id)
        ).defer_async(correction_id=str(correction_id))


async def stalled_corrections(seconds: float = STALLED_AFTER_SECONDS) -> list[UUID]:
    """Running corrections without step progress for `seconds` that no session advances."""
    rows = await fetch(
        "SELECT id FROM (SELECT id, updated_at FROM corrections WHERE status = 'running'"
        " AND updated_at <= now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 500)"
        " AS quiet WHERE CASE"
        " WHEN pg_try_advisory_lock(hashtextextended('correction:' || id::text, 0))"
        " THEN pg_advisory_unlock(hashtextextended('correction:' || id::text, 0))"
        " ELSE false END ORDER BY updated_at",
        float(seconds),
    )
    return [row["id"] for row in rows]


async def resume_corrections(seconds: float) -> int:
    stalled = await stalled_corrections(seconds)
    for correction_id in stalled:
        await defer_correction(correction_id)
    if stalled:
        _log.info("corrections resumed", corrections=len(stalled))
    return len(stalled)


@on_worker_start
async def resume_orphaned_corrections() -> None:
    """A worker starting: every running correction whose lock is free has nobody advancing
    it (its process died), however recent its last step."""
    await resume_corrections(0)


@job_app.periodic(cron="* * * * *")
@job_app.task(name="corrections.sweep", queueing_lock="corrections.sweep", queue=QUEUE)
async def sweep_corrections(timestamp: int) -> int:
    return await resume_corrections(STALLED_AFTER_SECONDS)
