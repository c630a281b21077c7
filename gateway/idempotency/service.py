"""Claim, complete and release idempotency keys; PostgreSQL's unique index picks one winner.

A claim names the process holding it (its lease, see `lease.py`). A retry that finds the claim
running takes it over at once when that process is gone, and after `LOCK_TIMEOUT` otherwise (or
when the claim names no process: made while the lease was being taken again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.core.db.connection import engine, fetch
from gateway.idempotency import queries
from gateway.idempotency.lease import LEASE_NAMESPACE, lease

# A request holding a key for longer than this died mid-way; a retry may take it over.
LOCK_TIMEOUT = timedelta(seconds=60)


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
    if engine().current_transaction.get() is not None:
        # The claim is a transaction of its own, committed without waiting for its WAL flush
        # (queries.INSERT): inside a caller's, that caller's commit would skip the flush too.
        raise RuntimeError("an idempotency claim is never made inside a transaction")
    holder = lease.holder()  # never waits: None while the lease is being taken again
    # Three rounds: a released key can vanish between our insert and select, and a claim we
    # found stale can be finished by its first attempt before our takeover (then we replay).
    for _ in range(3):
        inserted = await fetch(
            queries.INSERT,
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
        rows = await fetch(queries.FIND, api_key_id, LOCK_TIMEOUT, LEASE_NAMESPACE, key)
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
            taken = await fetch(queries.TAKE_OVER, row["id"], LOCK_TIMEOUT, LEASE_NAMESPACE, holder)
            if taken:
                return Claimed(row["id"], recovered=True, locked_at=taken[0]["locked_at"])
            continue  # finished, released or taken over meanwhile: look again
        return InProgress()
    return InProgress()


async def complete(claim: Claimed, status: int, content_type: str, body: bytes) -> None:
    await fetch(queries.COMPLETE, claim.record_id, claim.locked_at, status, content_type, body)


async def release(claim: Claimed) -> None:
    """Forget a key whose request changed nothing, so the client may retry with it. Only a
    running claim: an answer already stored under the key is never deleted."""
    await fetch(queries.RELEASE, claim.record_id, claim.locked_at)


async def abandon(claim: Claimed) -> None:
    """The request failed on our side after it may have changed something: keep the key, but
    let the next retry take it over at once and resume from the service's recovery point."""
    await fetch(queries.ABANDON, claim.record_id, claim.locked_at)


async def purge_expired(ttl: timedelta) -> int:
    rows = await fetch(queries.PURGE_EXPIRED, ttl)
    return int(rows[0]["n"])
