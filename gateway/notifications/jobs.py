"""The notification jobs: `notifications.dispatch` fans events out into deliveries (kicked
after each committed event by the outbox, gateway/notifications/outbox.py), and
`notifications.deliver` sends one endpoint's due deliveries in order (delivery.py).

One deliver job runs per endpoint at a time (Procrastinate's `lock` per endpoint); at most one
waits to run now and one waits for the next retry (two queueing locks). A minute sweep fans out
what a lost kick left and kicks every endpoint whose next delivery is due.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime

from procrastinate.exceptions import AlreadyEnqueued

from gateway.core.db.connection import fetch
from gateway.core.jobs import job_app
from gateway.core.log import get_logger
from gateway.notifications import queries
from settings import get_settings

QUEUE = "notifications"
DISPATCH = "notifications.dispatch"
_log = get_logger("gateway.notifications")


@job_app.task(name=DISPATCH, queue=QUEUE, lock=DISPATCH, retry=2)
async def dispatch_notifications() -> int:
    from gateway.notifications.wiring import notification_service

    return len(await notification_service().dispatch())


@job_app.task(name="notifications.deliver", queue=QUEUE, retry=2)
async def deliver_notifications(endpoint_id: str) -> str:
    from gateway.notifications.wiring import notification_service

    return await notification_service().deliver(uuid.UUID(endpoint_id))


async def defer_dispatch() -> None:
    with contextlib.suppress(AlreadyEnqueued):
        await dispatch_notifications.configure(queueing_lock=DISPATCH).defer_async()


async def defer_delivery(endpoint_id: uuid.UUID, at: datetime | None = None) -> None:
    """The endpoint's deliver job now (`at` None) or at its next retry."""
    waiting = "now" if at is None else "retry"
    with contextlib.suppress(AlreadyEnqueued):
        await deliver_notifications.configure(
            lock=f"notifications.endpoint:{endpoint_id}",
            queueing_lock=f"notifications.deliver-{waiting}:{endpoint_id}",
            schedule_at=at,
            # Procrastinate holds a job back behind a waiting job of the same lock unless it
            # has a higher priority, even one scheduled hours ahead: without it, an enable or
            # a resend would wait for the endpoint's next retry.
            priority=1 if at is None else 0,
        ).defer_async(endpoint_id=str(endpoint_id))


async def due_endpoints() -> list[uuid.UUID]:
    """Enabled endpoints whose earliest pending delivery may be tried now."""
    return [row["endpoint_id"] for row in await fetch(queries.DUE_ENDPOINTS) if row["due"]]


@job_app.periodic(cron="* * * * *")
@job_app.task(name="notifications.sweep", queueing_lock="notifications.sweep", queue=QUEUE)
async def sweep_notifications(timestamp: int) -> int:
    waiting = await fetch(queries.WAITING_EVENTS, 1)
    if waiting:
        await defer_dispatch()
    due = await due_endpoints()
    for endpoint_id in due:
        await defer_delivery(endpoint_id)
    if due or waiting:
        _log.info("notifications swept", endpoints=len(due), events_waiting=bool(waiting))
    return len(due)


async def purge_old_events(days: int) -> int:
    """Deletes, in batches, events past retention with their deliveries and attempts."""
    removed = 0
    while True:
        rows = await fetch(queries.PURGE, days)
        removed += len(rows)
        if len(rows) < 5000:
            return removed


@job_app.periodic(cron="41 * * * *")
@job_app.task(name="notifications.purge", queueing_lock="notifications.purge", queue=QUEUE)
async def purge_notifications(timestamp: int) -> int:
    removed = await purge_old_events(get_settings().notification_retention_days)
    if removed:
        _log.info("old notification events purged", removed=removed, scheduled_at=timestamp)
    return removed
