"""The webhook inbox: one row per provider event, whatever the number of deliveries (unique on
provider and event id), each handed to a job. It takes provider-neutral events
(adapters/events.py): each adapter parses its own provider's format."""

from __future__ import annotations

import json
from uuid import UUID

from adapters.events import ProviderEvent
from gateway.core.db.connection import fetch
from gateway.core.log import get_logger
from gateway.core.sensitive import redact_text
from gateway.webhooks import queries

_log = get_logger("gateway.webhooks")


async def record_event(event: ProviderEvent) -> UUID | None:
    """Keep `event` once; None when it was already kept (a repeated delivery)."""
    rows = await fetch(
        queries.INSERT,
        event.provider,
        event.event_id,
        event.type[:100],
        event.object_type,
        event.object_id,
        event.account_id,
        event.created,
        redact_text(json.dumps(event.payload)),  # providers send no IBAN or card number; be sure
    )
    return rows[0]["id"] if rows else None


async def keep(event: ProviderEvent) -> bool:
    """Keep `event` once and hand it to a job; False when it was kept already. If the queue is
    unreachable, the minute sweep finds it."""
    row_id = await record_event(event)
    if row_id is None:
        return False
    from gateway.webhooks.jobs import process

    try:
        await process.defer_async(event_row_id=str(row_id))
    except Exception as error:
        _log.warning("webhook job not deferred; the sweep will process it", error=str(error))
    return True


async def pending_events(providers: tuple[str, ...], limit: int = 100) -> list[UUID]:
    """The oldest unprocessed events of `providers`: a provider whose events nothing processes
    yet keeps them waiting without holding up the others' sweep."""
    rows = await fetch(queries.PENDING, list(providers), limit)
    return [row["id"] for row in rows]
