"""What a provider said about a correction's work (a refund processed, a payment settled): kept
on the correction and audited under its customer. Called by the webhook and callout jobs in
their own transaction."""

from __future__ import annotations

import json
from typing import Any

from audit.entry import SYSTEM
from gateway.core.db.connection import fetch
from gateway.corrections.records import audit

# The correction whose steps act on, or made, the object: the refund, payment, invoice or
# subscription id (correction_steps.object_ids, GIN-indexed).
_FIND = """
SELECT c.id, c.account_id, c.provider_events FROM corrections c
 WHERE c.provider = $1 AND c.id IN (
       SELECT s.correction_id FROM correction_steps s
        WHERE s.object_ids @> ARRAY[$2::text] AND s.provider = $1)
 ORDER BY c.created_at DESC LIMIT 1 FOR UPDATE
"""
_ADD = """
UPDATE corrections SET provider_events = provider_events || $2::jsonb, updated_at = now()
 WHERE id = $1
"""


async def record_correction_event(
    provider: str, object_type: str, object_id: str, news: dict[str, Any], event_id: str
) -> bool:
    """Append `news` to the correction that concerns `object_id` and audit it, in the
    caller's transaction; False when no correction concerns it. An event already recorded
    (same `event_id`) is not added twice."""
    found = await fetch(_FIND, provider, object_id)
    if not found:
        return False
    row = dict(found[0])
    earlier = row["provider_events"]
    earlier = json.loads(earlier) if isinstance(earlier, str) else (earlier or [])
    if any(isinstance(e, dict) and e.get("event_id") == event_id for e in earlier):
        return True
    entry = {"event_id": event_id, "object_type": object_type, "object_id": object_id, **news}
    await fetch(_ADD, row["id"], json.dumps([entry]))
    await audit(
        SYSTEM,
        row,
        "correction.provider_event.recorded",
        entry,
        provider_request_ids={f"{provider}_event": event_id},
    )
    return True
