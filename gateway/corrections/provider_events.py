"""What a provider said about a correction's work (a refund processed, a payment settled): kept
on the correction and audited under its customer. Called by the webhook and callout jobs in
their own transaction."""

from __future__ import annotations

import json
from typing import Any

from audit.actions import Action
from audit.entry import SYSTEM
from gateway.core.db.connection import fetch
from gateway.corrections import queries
from gateway.corrections.records import audit


async def record_correction_event(
    provider: str, object_type: str, object_id: str, news: dict[str, Any], event_id: str
) -> bool:
    """Append `news` to the correction that concerns `object_id` and audit it, in the
    caller's transaction; False when no correction concerns it. An event already recorded
    (same `event_id`) is not added twice."""
    found = await queries.concerning(provider, object_id)
    if found is None:
        return False
    row = dict(found)
    earlier = row["provider_events"]
    earlier = json.loads(earlier) if isinstance(earlier, str) else (earlier or [])
    if any(isinstance(e, dict) and e.get("event_id") == event_id for e in earlier):
        return True
    entry = {"event_id": event_id, "object_type": object_type, "object_id": object_id, **news}
    await fetch(queries.ADD_PROVIDER_EVENTS, row["id"], json.dumps([entry]))
    await audit(
        SYSTEM,
        row,
        Action.CORRECTION_PROVIDER_EVENT_RECORDED,
        entry,
        provider_request_ids={f"{provider}_event": event_id},
    )
    return True
