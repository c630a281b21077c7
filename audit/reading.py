"""Reading an entry's payload: an explicit act, recorded in the trail itself."""

from __future__ import annotations

import json

from audit import queries
from audit.actions import Action
from audit.entry import Actor, AuditEntry
from audit.store import append, read_payload
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode


async def read_audit_entry(seq: int, why: str, reader: Actor) -> str:
    """The payload of entry `seq` as JSON text (or why it cannot be read), once the reading is
    recorded: who read which entry, and why."""
    if not why.strip():
        raise BillingError(ErrorCode.VALIDATION_FAILED, "Say why you need to read this entry.")
    rows = await fetch(queries.ENTRY_AT, seq)
    if not rows:
        raise BillingError(
            ErrorCode.NOT_FOUND, f"No audit entry {seq} (entries get a number once sealed)."
        )
    row = rows[0]
    async with transaction():
        await append(
            AuditEntry(
                action=Action.AUDIT_READ_ENTRY_SUCCEEDED,
                actor=reader,
                about=row,
                target_id=str(seq),
                reason=why,
            )
        )
    payload = await read_payload(row)
    if payload is None:
        return f"Entry {seq}: its subject was forgotten; the payload is erased."
    return f"Entry {seq} ({row['named']}): {json.dumps(payload, ensure_ascii=False)}"
