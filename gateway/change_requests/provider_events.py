"""What a provider said about a change request's work (a mandate confirmed, a payout failed):
kept on the request for the specialist, and audited under the request's customer."""

from __future__ import annotations

import json
from typing import Any

from audit.entry import SYSTEM, AuditEntry
from audit.store import append
from gateway.core.db.connection import fetch

_LOCK = """
SELECT id, COALESCE(backoffice_id, zuora_account_id, stripe_customer_id,
                    stripe_connect_account_id) AS subject
  FROM change_requests WHERE id::text = $1 FOR UPDATE
"""
_ADD = """
UPDATE change_requests
   SET details = jsonb_set(details, '{provider_events}',
       COALESCE(details->'provider_events', '[]'::jsonb) || $2::jsonb),
       updated_at = now()
 WHERE id = $1
"""


async def record_provider_event(
    request_id: str, news: dict[str, Any], event_id: str, *, provider: str = "stripe"
) -> bool:
    """Append `news` to the request and audit it, in the caller's transaction; False when there
    is no such request."""
    found = await fetch(_LOCK, request_id)
    if not found:
        return False
    await fetch(_ADD, found[0]["id"], json.dumps([news]))
    await append(
        AuditEntry(
            action="change_request.provider_event.recorded",
            actor=SYSTEM,
            target_type="change_request",
            target_id=str(found[0]["id"]),
            subject=found[0]["subject"],
            after=news,
            provider_request_ids={f"{provider}_event": event_id},
        )
    )
    return True
