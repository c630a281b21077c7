"""Append-only store. A database trigger refuses UPDATE and DELETE on `audit_records`."""

from __future__ import annotations

import structlog

from audit.entry import AuditEntry
from audit.tables import AuditRecord
from gateway.sensitive import redact_value


async def append(entry: AuditEntry) -> None:
    """Write one entry inside the current transaction (if any), with sensitive data masked."""
    request_id = entry.request_id or structlog.contextvars.get_contextvars().get("request_id")
    await AuditRecord.insert(
        AuditRecord(
            actor_type=entry.actor.kind,
            actor_id=entry.actor.id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            request_id=request_id,
            data=redact_value(
                {
                    "actor_role": entry.actor.role,
                    "subject": entry.subject,
                    "reason": entry.reason,
                    "before": entry.before,
                    "after": entry.after,
                    "provider_request_ids": entry.provider_request_ids,
                }
            ),
        )
    )
