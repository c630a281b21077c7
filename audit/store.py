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
import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PreparedEntry:
    """An entry sealed for one statement of the caller's (`entry_cte`): `values` are
    INSERT_ENTRY's $1..$10, then the data key's id when the entry must go in only under the
    subject's live key (None when the subject was forgotten: the payload is ERASED)."""

    values: list[Any]
    subject: str
    key_id: str | None

    def forget_key(self) -> None:
        """The entry was not written (its key was forgotten or replaced elsewhere): the next
        prepare() looks the key up again."""
        subject_keys().forget_cached(self.subject)


async def prepare(entry: AuditEntry) -> PreparedEntry:
    """The entry masked, encrypted and MAC'd, ready to be written by `entry_cte`."""
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
    try:
        key_id, sealed = await subject_keys().encrypt(subject, plain, associated_data(row))
    except SubjectForgottenError:
        return PreparedEntry(_columns(row, request_id, ERASED), subject, None)
    return PreparedEntry(_columns(row, request_id, sealed), subject, key_id)


_PLACEHOLDER = re.compile(r"\$(\d+)")


def numbered_from(sql: str, first: int) -> str:
    """`sql` with its placeholders $1, $2... renumbered from `first`, for a larger statement."""
    return _PLACEHOLDER.sub(lambda found: f"${int(found[1]) + first - 1}", sql)


def entry_cte(gate: str, *, live_key: bool) -> str:
    """The INSERT of a PreparedEntry for a CTE of the caller's statement (its values as
    $1..$11, to be renumbered with `numbered_from`): it writes one entry per row of `gate` and
    returns its id, only under the subject's live key when `live_key` (the entry's key_id is
    set). The caller makes its change depend on the entry being written, so that nothing is
    written when the key was replaced, then calls forget_key() and prepares again."""
    if not live_key:
        return f"{queries.INSERT_ENTRY} FROM {gate} RETURNING id"
    assert queries.INSERT_UNDER_LIVE_KEY.startswith(queries.INSERT_ENTRY)
    live_key_check = queries.INSERT_UNDER_LIVE_KEY[len(queries.INSERT_ENTRY) :]
    return f"{queries.INSERT_ENTRY} FROM {gate}{live_key_check}"


async def append(entry: AuditEntry) -> None:
    """Write one entry inside the current transaction (if any), masked, then encrypted."""
    for _attempt in range(2):
        prepared = await prepare(entry)
        if prepared.key_id is None:
            await fetch(queries.INSERT_ENTRY, *prepared.values)
            return
        if await fetch(queries.INSERT_UNDER_LIVE_KEY, *prepared.values, prepared.key_id):
            return
        prepared.forget_key()  # stale: forgotten or replaced elsewhere
    raise RuntimeError(f"no live data key for audit subject {entry.subject or SYSTEM_SUBJECT!r}")


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
