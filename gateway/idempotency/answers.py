"""Every mutating service's recovery point: its answer is stored under the request's
Idempotency-Key in the same transaction as the change it reports.

A process killed after the commit (or a database gone before the body guard could store the
answer) then leaves a key that replays the original answer byte for byte, never one that runs
the change again and meets its own earlier work as a conflict. The body guard still stores the
answer it sends (the same bytes); for refusals, which change nothing, it is the only writer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TypeVar

import msgspec

from gateway.core.catalogues import as_plain_json
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.idempotency import queries
from gateway.idempotency import service as claims
from gateway.idempotency.context import FreshClaim, IdempotencyContext, StoredAnswer

Answer = TypeVar("Answer", bound=msgspec.Struct)
# What Litestar sends for a struct; the body guard stores the same.
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class AnswerSlot:
    """Where a request's answer is kept: its API key and its Idempotency-Key."""

    api_key_id: uuid.UUID
    key: str
    # Told what was stored, so that the body guard need not store the same bytes again.
    stored: StoredAnswer = field(default_factory=StoredAnswer, compare=False)
    # Set where the key is not claimed yet: the service's statement inserts its record.
    fresh: FreshClaim | None = field(default=None, compare=False)


def slot_for(api_key_id: uuid.UUID, context: IdempotencyContext | None) -> AnswerSlot | None:
    """None for work that has no Idempotency-Key (the back office, jobs, the demo seed)."""
    return AnswerSlot(api_key_id, context.key, context.stored, context.fresh) if context else None


class KeyTaken(BillingError):  # noqa: N818 (not an error: a signal to the body guard)
    """A service found its unclaimed key (`AnswerSlot.fresh`) held already: nothing was done,
    and the body guard answers as for a claimed key (a replay, a reuse, a request in
    progress). Not a refusal of the request, so services do not audit it as one."""

    def __init__(self, slot: AnswerSlot) -> None:
        super().__init__(  # what a client hears only if the body guard could not do better
            ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )
        if slot.fresh is not None:
            slot.fresh.taken = True


async def claim_before_refusing(slot: AnswerSlot | None) -> None:
    """A service about to audit and raise a refusal of a request whose key it was to claim in
    its statement claims the key now: only the attempt holding the key audits its refusal.
    Raises KeyTaken when the key is held already (an earlier answer, another request's, a
    request in progress), which the body guard answers instead."""
    if slot is None or slot.fresh is None:
        return
    fresh = slot.fresh
    outcome = await claims.claim(
        slot.api_key_id, slot.key, fresh.fingerprint, fresh.method, fresh.path
    )
    if not isinstance(outcome, claims.Claimed):
        raise KeyTaken(slot)
    fresh.claimed = outcome


def _claimed(slot: AnswerSlot) -> None:
    if slot.fresh is not None:  # a route that leaves the claim to its service's statement
        raise RuntimeError("this service stores answers under claimed keys only")


async def earlier_answer(slot: AnswerSlot | None, answer_type: type[Answer]) -> Answer | None:
    """Call first inside the service's transaction. Locks the key's record until the commit,
    so that of two attempts holding one key (a slow one and the retry that took it over) only
    one changes anything; the other gets this: the answer the first one committed."""
    if slot is None:
        return None
    _claimed(slot)
    rows = await fetch(queries.EARLIER_ANSWER, slot.api_key_id, slot.key)
    if not rows or rows[0]["state"] != "done" or not 200 <= rows[0]["response_status"] < 300:
        return None  # nothing committed (a refusal stored by a racing attempt is redone)
    return msgspec.json.decode(rows[0]["response_body"], type=answer_type)


def encoded(answer: msgspec.Struct) -> bytes:
    """The bytes Litestar sends for `answer` (and so the bytes a replay sends)."""
    return msgspec.json.encode(answer, enc_hook=as_plain_json)


def mark_stored(slot: AnswerSlot | None, status: int, body: bytes) -> None:
    """Tell the body guard that the service stored this answer with its change (for services
    that store it within a statement of their own, as filing does)."""
    if slot is not None:
        slot.stored.status, slot.stored.content_type, slot.stored.body = status, CONTENT_TYPE, body


async def store_answer(slot: AnswerSlot | None, status: int, answer: msgspec.Struct) -> None:
    """Call last inside the service's transaction, with the answer the handler returns."""
    if slot is None:
        return
    _claimed(slot)
    body = encoded(answer)
    await fetch(
        queries.STORE_ANSWER,
        slot.api_key_id,
        slot.key,
        status,
        CONTENT_TYPE,
        body,
    )
    mark_stored(slot, status, body)
