"""Append-only store. A database trigger refuses UPDATE and DELETE on `audit_records`."""

from __future__ import annotations

import msgspec
import structlog

from audit.entry import AuditEntry
from gateway.db.connection import fetch
from gateway.sensitive import redact_text, redact_value

_INSERT = (
    "INSERT INTO audit_records (occurred_at, actor_type, actor_id, action, target_type,"
    " target_id, request_id, data) VALUES (now(), $1, $2, $3, $4, $5, $6, $7::jsonb)"
)


async def append(entry: AuditEntry) -> None:
    """Write one entry inside the current transaction (if any), with sensitive data masked."""
    request_id = entry.request_id or structlog.contextvars.get_contextvars().get("request_id")
    data = {
        "actor_role": entry.actor.role,
        "subject": entry.subject,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
        "provider_request_ids": entry.provider_request_ids,
    }
    await fetch(
        _INSERT,
        entry.actor.kind,
        entry.actor.id,
        entry.action,
        entry.target_type,
        redact_text(entry.target_id),
        request_id,
        msgspec.json.encode(redact_value(data)).decode(),
    )
