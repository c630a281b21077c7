"""The ticket lifecycle on the worker: every minute, idle requests go back to Triage and silent
customers are marked for a team lead (gateway/change_requests/lifecycle.py). One run waits at a
time (the queueing lock); two workers running it at once share the rows (SKIP LOCKED)."""

from __future__ import annotations

from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from settings import get_settings

_log = get_logger("gateway.lifecycle")


@job_app.periodic(cron="* * * * *")
@job_app.task(name="change_requests.lifecycle", queueing_lock="change_requests.lifecycle")
async def run_ticket_lifecycle(timestamp: int) -> int:
    from gateway.change_requests.lifecycle import run_lifecycle

    done = await run_lifecycle(get_settings())
    if any(done.values()):
        _log.info("ticket lifecycle", scheduled_at=timestamp, **done)
    return sum(done.values())
