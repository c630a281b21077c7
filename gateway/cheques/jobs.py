"""The cheque jobs: finish one cheque left `recording` or `bouncing` (its provider was down),
and the minute sweep that finishes every such cheque idle for 30 seconds (its process died, or
its job was never queued). Repeating a provider write is safe: the provider finds the payment
by its payment number, and each outcome is stored once."""

from __future__ import annotations

import contextlib
from uuid import UUID

from procrastinate.exceptions import AlreadyEnqueued

from gateway.core.jobs import job_app

QUEUE = "cheques"
RETRY_IN_SECONDS = 10  # a provider that just failed gets a moment before the next try
STALLED_AFTER_SECONDS = 30


@job_app.task(name="cheques.finish", queue=QUEUE, retry=3)
async def finish_cheque(cheque_id: str) -> str:
    from gateway.cheques.wiring import cheque_service

    return await cheque_service().finish(UUID(cheque_id))


async def defer_finish(cheque_id: UUID) -> None:
    with contextlib.suppress(AlreadyEnqueued):
        await finish_cheque.configure(
            queueing_lock=f"cheque:{cheque_id}", schedule_in={"seconds": RETRY_IN_SECONDS}
        ).defer_async(cheque_id=str(cheque_id))


@job_app.periodic(cron="* * * * *")
@job_app.task(name="cheques.sweep", queueing_lock="cheques.sweep", queue=QUEUE)
async def sweep_cheques(timestamp: int) -> int:
    from gateway.cheques.wiring import cheque_service

    return await cheque_service().finish_unfinished(STALLED_AFTER_SECONDS)
