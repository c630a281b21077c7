"""The webhook jobs: one per received event, a sweep every minute for any event whose job
was never deferred (the receiving process stopped between the insert and the defer), and a
pull of Zuora's failed callouts every minute."""

from __future__ import annotations

from uuid import UUID

from gateway.core.jobs import job_app
from gateway.webhooks.inbox import pending_events
from gateway.webhooks.processing import PROCESSED_PROVIDERS, process_event
from gateway.webhooks.readers import stripe_reader
from gateway.webhooks.zuora_pull import pull_missed_callouts


@job_app.task(name="webhooks.process", retry=5)
async def process(event_row_id: str) -> str | None:
    return await process_event(UUID(event_row_id), stripe_reader())


@job_app.periodic(cron="* * * * *")
@job_app.task(name="webhooks.sweep", queueing_lock="webhooks.sweep")
async def sweep(timestamp: int) -> int:
    done = 0
    for row_id in await pending_events(PROCESSED_PROVIDERS):
        if await process_event(row_id, stripe_reader()) is not None:
            done += 1
    return done


@job_app.periodic(cron="* * * * *")
@job_app.task(name="webhooks.zuora_history", queueing_lock="webhooks.zuora_history")
async def pull_zuora_history(timestamp: int) -> int:
    return await pull_missed_callouts()
