"""The Apply worker: one job per run, never two processes advancing the same run at once
(gateway/durable.py: an advisory lock per run, resumed by each starting worker and a minute
sweep). `queueing_lock` keeps at most one job waiting per run.
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from procrastinate.exceptions import AlreadyEnqueued

from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from gateway.durable import LockedWork
from gateway.job_worker import on_worker_start

QUEUE = "fulfilment"
STALLED_AFTER_SECONDS = 30
RUNS = LockedWork("fulfilment", "fulfilment_runs")
advancing = RUNS.advancing
run_lock = RUNS.lock_name
_log = get_logger("gateway.fulfilment")


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
    return await RUNS.stalled(seconds)


async def resume_runs(seconds: float) -> int:
    stalled = await RUNS.resume(seconds, defer_run)
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
