"""The webhook inbox: one row per provider event, whatever the number of deliveries (unique on
provider and event id). It takes provider-neutral events (adapters/events.py): each adapter
parses its own provider's format."""

from __future__ import annotations

import json
from uuid import UUID

from adapters.events import ProviderEvent
from gateway.core.db.connection import fetch
from gateway.core.sensitive import redact_text

_INSERT = """
INSERT INTO webhook_events
    (provider, event_id, event_type, object_type, object_id, account_id, event_created, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id
"""


async def record_event(event: ProviderEvent) -> UUID | None:
    """Keep `event` once; None when it was already kept (a repeated delivery)."""
    rows = await fetch(
        _INSERT,
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


async def pending_events(limit: int = 100) -> list[UUID]:
    rows = await fetch(
        "SELECT id FROM webhook_events WHERE processed_at IS NULL ORDER BY received_at LIMIT $1",
        limit,
    )
    return [row["id"] for row in rows]
