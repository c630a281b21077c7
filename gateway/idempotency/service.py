"""Claim, complete and release idempotency keys; PostgreSQL's unique index picks one winner.

A claim names the process holding it (its lease, see `lease.py`). A retry that finds the claim
running takes it over at once when that process is gone, and after `LOCK_TIMEOUT` otherwise (or
when the claim names no process: made while the lease was being taken again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.core.db.connection import fetch
from gateway.idempotency.lease import LEASE_NAMESPACE, lease

# A request holding a key for longer than this died mid-way; a retry may take it over.
LOCK_TIMEOUT = timedelta(seconds=60)
# `stale`: the claim may be taken over, its time being up or its holder's lease not held. The
# shared try-lock succeeds only when no session holds the lease; it conflicts with no other
# check and ends with the statement. CASE keeps the lock check to running claims.
_FIND = """
SELECT id, fingerprint, state, response_status, response_content_type, response_body,
       CASE WHEN state <> 'running' THEN false WHEN locked_at < now() - $2::interval THEN true
            WHEN holder IS NULL THEN false ELSE pg_try_advisory_xact_lock_shared($3, holder)
       END AS stale
  FROM idempotency_keys WHERE api_key = $1 AND key = $4
"""
_TAKE_OVER = """
UPDATE idempotency_keys SET locked_at = now(), holder = $4
 WHERE id = $1 AND state = 'running'
   AND CASE WHEN locked_at < now() - $2::interval THEN true WHEN holder IS NULL THEN false
            ELSE pg_try_advisory_xact_lock_shared($3, holder) END
RETURNING id, locked_at
"""


@dataclass(frozen=True)
class Claimed:
    record_id: uuid.UUID
    recovered: bool  # an earlier attempt died holding the key
    # The claim's own lock time: finishing touches the row only while it still holds it, so an
    # attempt whose key was taken over can neither release nor overwrite the new holder's work.
    locked_at: datetime


@dataclass(frozen=True)
class Replay:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class InProgress:
    pass


@dataclass(frozen=True)
class Mismatch:
    pass


Outcome = Claimed | Replay | InProgress | Mismatch


async def claim(
    api_key_id: uuid.UUID, key: str, fingerprint: str, method: str, path: str
) -> Outcome:
    holder = lease.holder()  # never waits: None while the lease is being taken again
    # Three rounds: a released key can vanish between our insert and select, and a claim we
    # found stale can be finished by its first attempt before our takeover (then we replay).
    for _ in range(3):
        inserted = await fetch(
            "INSERT INTO idempotency_keys (id, api_key, key, fingerprint, method, path, state,"
            " locked_at, created_at, holder)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'running', now(), now(), $7)"
            " ON CONFLICT (api_key, key) DO NOTHING RETURNING id, locked_at",
            uuid.uuid4(),
            api_key_id,
            key,
            fingerprint,
            method,
            path,
            holder,
        )
        if inserted:
            return Claimed(inserted[0]["id"], recovered=False, locked_at=inserted[0]["locked_at"])
        rows = await fetch(_FIND, api_key_id, LOCK_TIMEOUT, LEASE_NAMESPACE, key)
        if not rows:
            continue
        row = rows[0]
        if row["fingerprint"] != fingerprint:
            return Mismatch()
        if row["state"] == "done":
            return Replay(
                row["response_status"], row["response_content_type"], row["response_body"]
            )
        if row["stale"]:
            taken = await fetch(_TAKE_OVER, row["id"], LOCK_TIMEOUT, LEASE_NAMESPACE, holder)
            if taken:
                return Claimed(row["id"], recovered=True, locked_at=taken[0]["locked_at"])
            continue  # finished, released or taken over meanwhile: look again
        return InProgress()
    return InProgress()


async def complete(claim: Claimed, status: int, content_type: str, body: bytes) -> None:
    await fetch(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1,"
        " response_content_type = $2, response_body = $3, completed_at = now()"
        " WHERE id = $4 AND locked_at = $5",
        status,
        content_type,
        body,
        claim.record_id,
        claim.locked_at,
    )


async def release(claim: Claimed) -> None:
    """Forget a key whose request changed nothing, so the client may retry with it. Only a
    running claim: an answer already stored under the key is never deleted."""
    await fetch(
        "DELETE FROM idempotency_keys WHERE id = $1 AND locked_at = $2 AND state = 'running'",
        claim.record_id,
        claim.locked_at,
    )


async def abandon(claim: Claimed) -> None:
    """The request failed on our side after it may have changed something: keep the key, but
    let the next retry take it over at once and resume from the service's recovery point."""
    await fetch(
        "UPDATE idempotency_keys SET locked_at = '-infinity' WHERE id = $1 AND locked_at = $2",
        claim.record_id,
        claim.locked_at,
    )


async def purge_expired(ttl: timedelta) -> int:
    rows = await fetch(
        "WITH gone AS (DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval"
        " RETURNING 1) SELECT count(*) AS n FROM gone",
        ttl,
    )
    return int(rows[0]["n"])
