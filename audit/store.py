"""Append-only store. A database trigger refuses UPDATE and DELETE on `audit_records`, and the
application's role may only SELECT and INSERT there (`gateway.core.db.roles`).

Each entry keeps its metadata in clear (time, actor, action, target, request id, subject), so
that it can be listed and filtered, and its payload (role, reason, before/after, the providers'
request ids) encrypted under its subject's data key, bound to that metadata. A MAC under a key
the database never sees covers both (`audit/mac.py`). Entries are chained after they commit
(`audit/chain.py`): writers never wait for one another.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from audit import queries
from audit.entry import AuditEntry
from audit.keys import SYSTEM_SUBJECT, SubjectForgottenError, SubjectKeys
from audit.mac import entry_mac
from gateway.core.catalogues import as_plain_json
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.core.sensitive import redact_text, redact_value
from settings import get_settings

ERASED = "erased"  # the payload of an entry about a subject already forgotten


@functools.cache
def subject_keys() -> SubjectKeys:
    return SubjectKeys(get_settings().keys)


def associated_data(row: dict[str, Any]) -> bytes:
    """What a payload is bound to: moving it to another entry makes it undecryptable."""
    return "|".join(
        str(row.get(name) or "")
        for name in ("actor_type", "actor_id", "action", "target_type", "target_id", "subject")
    ).encode()


async def append(entry: AuditEntry) -> None:
    """Write one entry inside the current transaction (if any), masked, then encrypted."""
    request_id = entry.request_id or structlog.contextvars.get_contextvars().get("request_id")
    subject = entry.subject or SYSTEM_SUBJECT
    row = {
        "actor_type": entry.actor.kind,
        "actor_id": entry.actor.id,
        "action": entry.action.value,
        "target_type": entry.action.target_type,
        "target_id": redact_text(entry.target),
        "subject": subject,
    }
    payload = {
        "actor_role": entry.actor.role,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
        "provider_request_ids": entry.provider_request_ids,
    }
    plain = msgspec.json.encode(redact_value(payload), enc_hook=as_plain_json)
    keys = subject_keys()
    for _attempt in range(2):
        try:
            key_id, sealed = await keys.encrypt(subject, plain, associated_data(row))
        except SubjectForgottenError:
            await fetch(queries.INSERT_ENTRY, *_columns(row, request_id, ERASED))
            return
        if await fetch(queries.INSERT_UNDER_LIVE_KEY, *_columns(row, request_id, sealed), key_id):
            return
        keys.forget_cached(subject)  # stale: forgotten or replaced elsewhere
    raise RuntimeError(f"no live data key for audit subject {subject!r}")


def now() -> datetime:
    return datetime.now(UTC)


def _columns(row: dict[str, Any], request_id: str | None, payload: str) -> list[Any]:
    """The values of `queries.INSERT_ENTRY`, in its order, the MAC over them last."""
    entry = {**row, "request_id": request_id, "payload": payload, "occurred_at": now()}
    names = ("actor_type", "actor_id", "action", "target_type", "target_id", "request_id")
    return [
        *(entry[name] for name in names),
        entry["subject"],
        payload,
        entry["occurred_at"],
        entry_mac(entry),
    ]


async def read_payload(row: dict[str, Any]) -> dict[str, Any] | None:
    """The decrypted payload of an entry row; None when its subject was forgotten. Entries from
    before encryption carry their masked payload in `data`."""
    if row.get("payload") == ERASED:
        return None
    if row.get("payload") is None:
        data: dict[str, Any] | None = loaded(row.get("data"))
        return data
    try:
        plain = await subject_keys().decrypt(row["subject"], row["payload"], associated_data(row))
    except SubjectForgottenError:
        return None
    return dict(msgspec.json.decode(plain))
