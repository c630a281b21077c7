"""The webhook inbox: one row per provider event, whatever the number of deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from gateway.db.connection import fetch
from gateway.sensitive import redact_text

_INSERT = """
INSERT INTO webhook_events
    (provider, event_id, event_type, object_type, object_id, event_created, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id
"""


async def record_event(provider: str, event: dict[str, Any]) -> UUID | None:
    """Keep `event` once; None when it was already kept (a repeated delivery)."""
    data_object = (event.get("data") or {}).get("object") or {}
    created = datetime.fromtimestamp(int(event.get("created") or 0), UTC)
    rows = await fetch(
        _INSERT,
        provider,
        str(event["id"]),
        str(event.get("type") or "unknown"),
        data_object.get("object"),
        data_object.get("id"),
        created,
        redact_text(json.dumps(event)),  # providers send no IBAN or card number; be sure
    )
    return rows[0]["id"] if rows else None


async def pending_events(limit: int = 100) -> list[UUID]:
    rows = await fetch(
        "SELECT id FROM webhook_events WHERE processed_at IS NULL ORDER BY received_at LIMIT $1",
        limit,
    )
    return [row["id"] for row in rows]
