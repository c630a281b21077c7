"""The corrections worker: one job per correction, never two processes advancing the same
correction at once (gateway/durable.py: an advisory lock per correction, resumed by each
starting worker and a minute sweep). `queueing_lock` keeps at most one job waiting per
correction.
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from procrastinate.exceptions import AlreadyEnqueued

from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from gateway.durable import LockedWork
from gateway.job_worker import on_worker_start

QUEUE = "corrections"
STALLED_AFTER_SECONDS = 30
CORRECTIONS = LockedWork("correction", "corrections")
advancing = CORRECTIONS.advancing
correction_lock = CORRECTIONS.lock_name
_log = get_logger("gateway.corrections")


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
    return await CORRECTIONS.stalled(seconds)


async def resume_corrections(seconds: float) -> int:
    stalled = await CORRECTIONS.resume(seconds, defer_correction)
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
