"""What a provider said about a change request's work (a mandate confirmed, a payout failed):
kept on the request for the specialist, and audited under the request's customer."""

from __future__ import annotations

import json
from typing import Any

from audit.actions import Action
from audit.entry import SYSTEM, AuditEntry
from audit.store import append
from gateway.change_requests import queries
from gateway.core.db.connection import fetch


async def record_provider_event(
    request_id: str, news: dict[str, Any], event_id: str, *, provider: str = "stripe"
) -> bool:
    """Append `news` to the request and audit it, in the caller's transaction; False when there
    is no such request."""
    found = await fetch(queries.LOCK_SUBJECT, request_id)
    if not found:
        return False
    await fetch(queries.ADD_PROVIDER_EVENT, found[0]["id"], json.dumps([news]))
    await append(
        AuditEntry(
            action=Action.CHANGE_REQUEST_PROVIDER_EVENT_RECORDED,
            actor=SYSTEM,
            about=found[0],
            after=news,
            provider_request_ids={f"{provider}_event": event_id},
        )
    )
    return True
