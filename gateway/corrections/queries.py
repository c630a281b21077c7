"""Every statement on corrections and their steps (correction_steps)."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.core.db.connection import fetch

Row = dict[str, Any]

COLUMNS = (
    "id, kind, provider, account_id, object_id, status, reason, ticket, filed, payload,"
    " payload_hash, computation, approval_required, approval_rule, client, requested_by,"
    " requested_by_staff_id, approved_by_staff_id, approved_by, approved_hash,"
    " refused_by_staff_id, refused_by, refusal_reason, decided_at, provider_events,"
    " created_at, updated_at, finished_at, deadline_at, error_code, error_message"
)
SELECT = f"SELECT {COLUMNS} FROM corrections"  # noqa: S608 (constant columns)
# The back office's approval queue, one part of the business metrics' queue depths.
APPROVAL_QUEUE = """
SELECT 'corrections_approval', count(*), max(now() - created_at) FROM corrections
 WHERE status = 'awaiting_approval'
"""
# The correction whose steps act on, or made, the object: the refund, payment, invoice or
# subscription id (correction_steps.object_ids, GIN-indexed).
_CONCERNING = """
SELECT c.id, c.account_id, c.provider_events FROM corrections c
 WHERE c.provider = $1 AND c.id IN (
       SELECT s.correction_id FROM correction_steps s
        WHERE s.object_ids @> ARRAY[$2::text] AND s.provider = $1)
 ORDER BY c.created_at DESC LIMIT 1 FOR UPDATE
"""
# Minor units that unfinished corrections are about to refund, per payment.
_RESERVED = """
SELECT s.inputs->>'payment_id' AS payment_id,
       sum((s.inputs->'amount'->>'amount_minor')::bigint) AS held
  FROM correction_steps s JOIN corrections c ON c.id = s.correction_id
 WHERE c.provider = $1 AND c.status IN ('awaiting_approval', 'running')
   AND s.operation = 'refund_payment' AND s.status IN ('pending', 'calling')
   AND s.inputs->>'payment_id' = ANY($2::text[])
 GROUP BY 1
"""
CLIENT = "SELECT client FROM corrections WHERE id = $1"
# `deadline_at` from $18 seconds, for a running one.
INSERT_CORRECTION = """
INSERT INTO corrections (id, kind, provider, account_id, object_id, status, reason, ticket,
       filed, payload, payload_hash, computation, approval_required, approval_rule, client,
       requested_by, requested_by_staff_id, deadline_at)
VALUES ($1, $2, $3, $4, $5, $6::varchar, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb, $13,
       $14, $15, $16::jsonb, $17,
       CASE WHEN $6::varchar = 'running' THEN now() + make_interval(secs => $18) END)
"""
TOUCH = "UPDATE corrections SET updated_at = now() WHERE id = $1"
ADD_PROVIDER_EVENTS = """
UPDATE corrections SET provider_events = provider_events || $2::jsonb, updated_at = now()
 WHERE id = $1
"""
FINISH_RUNNING = """
UPDATE corrections SET status = $2, error_code = $3, error_message = $4, finished_at = now(),
       updated_at = now() WHERE id = $1 AND status = 'running'
"""
APPROVE = """
UPDATE corrections SET status = 'running', approved_by_staff_id = $2, approved_by = $3::jsonb,
       approved_hash = $4, decided_at = now(), updated_at = now(),
       deadline_at = now() + make_interval(secs => $5)
 WHERE id = $1
"""
REFUSE = """
UPDATE corrections SET status = 'refused', refused_by_staff_id = $2, refused_by = $3::jsonb,
       refusal_reason = $4, decided_at = now(), finished_at = now(), updated_at = now()
 WHERE id = $1
"""
# A failed correction running again; a new deadline in $2 seconds unless NULL.
RUN_AGAIN = """
UPDATE corrections SET status = 'running', error_code = NULL, error_message = NULL,
       finished_at = NULL, updated_at = now(),
       deadline_at = coalesce(now() + make_interval(secs => $2::float8), deadline_at)
 WHERE id = $1
"""
INSERT_STEP = """
INSERT INTO correction_steps (id, correction_id, position, provider, operation, inputs,
       idempotency_key, object_ids)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::text[])
"""
# The steps as shown, by correction and position.
STEPS_SHOWN = """
SELECT correction_id, position, operation, status, result, provider_request_id, error_code,
       error_message, started_at, finished_at, settled_reason
  FROM correction_steps WHERE correction_id = ANY($1::uuid[]) ORDER BY correction_id, position
"""
STEPS_TO_RUN = """
SELECT id, position, provider, operation, inputs, status, idempotency_key
  FROM correction_steps WHERE correction_id = $1 ORDER BY position
"""
STEP_CALLING = """
UPDATE correction_steps SET status = 'calling', attempts = attempts + 1,
       started_at = coalesce(started_at, now()) WHERE id = $1
"""
# $3: the ids of the objects it made.
STEP_SUCCEEDED = """
UPDATE correction_steps SET status = 'succeeded', result = $2::jsonb,
       object_ids = (SELECT array_agg(DISTINCT o) FROM unnest(object_ids || $3::text[]) AS o),
       provider_request_id = $4, error_code = NULL, error_message = NULL, finished_at = now()
 WHERE id = $1
"""
# `failed`, or still `calling` when whether it happened is unknown.
STEP_STOPPED = """
UPDATE correction_steps SET status = $2::varchar, error_code = $3, error_message = $4,
       provider_request_id = coalesce($5, provider_request_id),
       finished_at = CASE WHEN $2::varchar = 'failed' THEN now() END WHERE id = $1
"""


async def correction_row(correction_id: uuid.UUID, *, lock: bool = False) -> Row | None:
    rows = await fetch(f"{SELECT} WHERE id = $1" + (" FOR UPDATE" if lock else ""), correction_id)
    return rows[0] if rows else None


async def clients_of_accounts(account_ids: list[str]) -> set[str]:
    rows = await fetch(
        "SELECT DISTINCT client FROM corrections"
        " WHERE client IS NOT NULL AND account_id = ANY($1::text[])",
        account_ids,
    )
    return {row["client"] for row in rows}


async def event_row(correction_id: uuid.UUID) -> dict[str, Any]:
    """What a correction's notification says of it."""
    rows = await fetch(
        "SELECT id, kind, provider, account_id, object_id, status, ticket, payload, client,"
        " approval_required, approved_by_staff_id, refused_by_staff_id, requested_by_staff_id,"
        " error_code, error_message FROM corrections WHERE id = $1",
        correction_id,
    )
    return dict(rows[0])


async def page_rows(clauses: list[str], values: list[Any]) -> list[dict[str, Any]]:
    """The list, newest first: `clauses` on $1.. of `values`, the limit last."""
    sql = (
        SELECT
        + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
        + f" ORDER BY created_at DESC, id DESC LIMIT ${len(values)}"
    )
    return [dict(row) for row in await fetch(sql, *values)]


async def concerning(provider: str, object_id: str) -> Row | None:
    """The correction whose steps act on or made `object_id`, locked."""
    rows = await fetch(_CONCERNING, provider, object_id)
    return rows[0] if rows else None


async def reserved_on(provider: str, payment_ids: list[str]) -> dict[str, int]:
    rows = await fetch(_RESERVED, provider, payment_ids)
    return {str(r["payment_id"]): int(r["held"]) for r in rows}


async def reopen_stopped_steps(correction_id: uuid.UUID) -> list[int]:
    """The failed or `calling` steps pending again; their positions."""
    rows = await fetch(
        "UPDATE correction_steps SET status = 'pending', error_code = NULL,"
        " error_message = NULL, finished_at = NULL"
        " WHERE correction_id = $1 AND status IN ('failed', 'calling')"
        " RETURNING position",
        correction_id,
    )
    return [row["position"] for row in rows]


async def settle_first_stopped_step(
    correction_id: uuid.UUID, staff_id: int, reason: str, result_json: str
) -> Row | None:
    """The first failed or `calling` step settled by hand: its position and operation."""
    rows = await fetch(
        "UPDATE correction_steps SET status = 'settled_by_hand', settled_by_staff_id = $2,"
        " settled_reason = $3, finished_at = now(), error_code = NULL, error_message = NULL,"
        " result = coalesce(result, '{}'::jsonb) || $4::jsonb"
        " WHERE id = (SELECT id FROM correction_steps WHERE correction_id = $1"
        " AND status IN ('failed', 'calling') ORDER BY position LIMIT 1)"
        " RETURNING position, operation",
        correction_id,
        staff_id,
        reason,
        result_json,
    )
    return rows[0] if rows else None
