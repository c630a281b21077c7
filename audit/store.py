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
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
import structlog

from audit import queries
from audit.entry import AuditEntry
from audit.keys import SYSTEM_SUBJECT, SubjectForgottenError, SubjectKeys
from audit.mac import micros_of, new_mac
from audit.masking import masked_json, masked_text
from gateway.core.db.connection import fetch, written
from gateway.core.db.rows import loaded
from settings import get_settings

ERASED = "erased"  # the payload of an entry about a subject already forgotten
_RANDOM = 12 + 9  # bytes: an AES-GCM nonce, the MAC nonce's random part


@functools.cache
def subject_keys() -> SubjectKeys:
    return SubjectKeys(get_settings().keys)


_BOUND = ("actor_type", "actor_id", "action", "target_type", "target_id", "subject")


def associated_data(row: dict[str, Any]) -> bytes:
    """What a payload is bound to: moving it to another entry makes it undecryptable."""
    return _bound_to([row.get(name) for name in _BOUND])


def _bound_to(metadata: Sequence[Any]) -> bytes:
    """`associated_data` of the values of _BOUND, in order."""
    return "|".join([str(value or "") for value in metadata]).encode()


class PreparedEntry(NamedTuple):
    """An entry sealed for one statement of the caller's (`entry_cte`): `values` are
    INSERT_ENTRY's $1..$10 (its time as `mac.micros_of` gives it), then the data key's id
    when the entry must go in only under the subject's live key (None when the subject was
    forgotten: the payload is ERASED)."""

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
    actor, action = entry.actor, entry.action
    target_id = masked_text(entry.target)
    plaintext = masked_json(
        {
            "actor_role": actor.role,
            "reason": entry.reason,
            "before": entry.before,
            "after": entry.after,
            "provider_request_ids": entry.provider_request_ids,
        }
    )
    random = os.urandom(_RANDOM)  # one read for both nonces: the payload's, the MAC's
    keys = subject_keys()
    key_id: str | None
    try:
        data_key = keys.cached(subject) or await keys.for_writing(subject)
        # associated_data() of the row, spelled out: this runs for every entry written
        bound = (
            f"{actor.kind or ''}|{actor.id or ''}|{action.value}|{action.target_type}"
            f"|{target_id}|{subject}"
        )
        key_id, sealed = data_key.key_id, data_key.seal(random[:12], plaintext, bound.encode())
    except SubjectForgottenError:
        key_id, sealed = None, ERASED
    micros = micros_of(now())
    # INSERT_ENTRY's first eight values are what the MAC covers (mac.FIELDS), in its order.
    fields: list[Any] = [actor.kind, actor.id, action.value, action.target_type, target_id]
    fields += [request_id, subject, sealed]
    mac = new_mac(micros, random[12:], fields)
    return PreparedEntry([*fields, micros, mac], subject, key_id)


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
    check = queries.UNDER_LIVE_KEY if live_key else ""
    return f"{queries.INSERT_ENTRY} FROM {gate}{check} RETURNING id"


async def append(entry: AuditEntry) -> None:
    """Write one entry inside the current transaction (if any), masked, then encrypted."""
    for _attempt in range(2):
        prepared = await prepare(entry)
        if prepared.key_id is None:
            await fetch(queries.INSERT_ENTRY, *prepared.values)
            return
        if await written(queries.INSERT_UNDER_LIVE_KEY, *prepared.values, prepared.key_id):
            return
        prepared.forget_key()  # stale: forgotten or replaced elsewhere
    raise RuntimeError(f"no live data key for audit subject {entry.subject or SYSTEM_SUBJECT!r}")


def now() -> datetime:
    return datetime.now(UTC)


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
