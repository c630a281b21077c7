"""Forgetting a subject: their data key destroyed and the erasure on record, in one transaction
(`audit verify` reports a key gone without such an entry)."""

from __future__ import annotations

from audit.actions import Action
from audit.entry import SYSTEM, AuditEntry
from audit.store import append, subject_keys
from gateway.core.db.connection import transaction


async def forget_subject(subject: str, reason: str) -> bool:
    """True when a live key was destroyed; recorded either way."""
    async with transaction():
        destroyed = await subject_keys().forget(subject)
        await append(
            AuditEntry(
                action=Action.AUDIT_FORGET_SUBJECT_SUCCEEDED
                if destroyed
                else Action.AUDIT_FORGET_SUBJECT_SKIPPED,
                actor=SYSTEM,
                about={},
                target_id=subject,
                reason=reason,
            )
        )
    return destroyed
