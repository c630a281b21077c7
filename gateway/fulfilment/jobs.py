"""The Apply worker: one job per run, never two at once for the same run (a lock per run), and
a sweep every minute for running runs nobody advanced lately (a process killed mid-run, or a
deferral lost with the queue)."""

from __future__ import annotations

import contextlib
from uuid import UUID

from procrastinate.exceptions import AlreadyEnqueued

from gateway.db.connection import fetch
from gateway.jobs import job_app

QUEUE = "fulfilment"
STALLED_AFTER_SECONDS = 60


def run_lock(run_id: UUID | str) -> str:
    return f"fulfilment:{run_id}"


@job_app.task(name="fulfilment.advance_run", queue=QUEUE, retry=3)
async def advance_fulfilment_run(run_id: str) -> str:
    from gateway.fulfilment.wiring import fulfilment_service

    return await fulfilment_service().advance(UUID(run_id))


async def defer_run(run_id: UUID) -> None:
    """Queue the run's job once (a second deferral while one waits is the same work)."""
    with contextlib.suppress(AlreadyEnqueued):
        await advance_fulfilment_run.configure(
            lock=run_lock(run_id), queueing_lock=run_lock(run_id)
        ).defer_async(run_id=str(run_id))


async def stalled_runs(seconds: int = STALLED_AFTER_SECONDS) -> list[UUID]:
    rows = await fetch(
        "SELECT id FROM fulfilment_runs WHERE status = 'running'"
        " AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 500",
        float(seconds),
    )
    return [row["id"] for row in rows]


@job_app.periodic(cron="* * * * *")
@job_app.task(name="fulfilment.sweep", queueing_lock="fulfilment.sweep", queue=QUEUE)
async def sweep_runs(timestamp: int) -> int:
    stalled = await stalled_runs()
    for run_id in stalled:
        await defer_run(run_id)
    return len(stalled)
