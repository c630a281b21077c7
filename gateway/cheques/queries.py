"""Every statement on cheques, their batches (cheque_batches, cheque_batch_scans) and their
numbers (cheque_number_sequences)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from gateway.core.db.connection import fetch, fetch_value

Row = dict[str, Any]
# A cheque's row, with its depositor's username from its batch.
CHEQUE_SELECT = (
    "SELECT c.id, c.number, c.payment_number, c.reference, c.provider, c.account_id,"
    " c.account_name, c.account_number, c.invoice_id, c.invoice_number, c.amount_minor,"
    " c.currency, c.business_date, c.batch_id,"
    " c.depositor_staff_id, c.status, c.provider_payment_id, c.invoice_status, c.note,"
    " c.failure, c.entered_by, c.client, c.api_key_id, c.idempotency_key, c.entered_at,"
    " c.recorded_at, c.bounce_reason, c.bounced_by, c.bounced_at, c.updated_at,"
    " b.depositor_username FROM cheques c JOIN cheque_batches b ON b.id = c.batch_id"
)
# A batch's row with its count, total, bounced count and last scan.
BATCH_SELECT = """
SELECT b.id, b.business_date, b.currency, b.depositor_staff_id, b.depositor_username,
       b.depositor_initials, b.sequence, b.status, b.closed_at, b.closed_by_staff_id,
       b.closed_by_username, b.scanner_total_minor, b.created_at,
       t.cheque_count, t.total_minor, t.bounced_count,
       s.scanner_total_minor AS scan_scanner_minor, s.batch_total_minor AS scan_batch_minor,
       s.matched AS scan_matched, s.by_username AS scan_by, s.at AS scan_at,
       s.scanned_at AS scan_scanned_at
  FROM cheque_batches b
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.counted) AS cheque_count,
           COALESCE(sum(c.amount_minor) FILTER (WHERE d.counted), 0) AS total_minor,
           count(*) FILTER (WHERE c.status = 'bounced') AS bounced_count
      FROM cheques c
      -- A closed batch: what it deposited, fixed at the close (a later bounce is counted
      -- apart). An open one: its cheques as they stand, not bounced or failed.
      CROSS JOIN LATERAL (SELECT CASE WHEN b.status = 'closed' THEN c.deposited_at IS NOT NULL
                                 ELSE c.status IN ('recording', 'recorded', 'bouncing') END
                                 AS counted) d
     WHERE c.batch_id = b.id) t
  LEFT JOIN LATERAL (
    SELECT * FROM cheque_batch_scans x WHERE x.batch_id = b.id ORDER BY x.id DESC LIMIT 1) s
    ON true
"""

# Per day and currency ($3 or all): cheques entered from $1 to $2, bounced (that day in time
# zone $4), batches.
REPORT = """
WITH parts AS (
  SELECT business_date AS day, currency, count(*) AS n, sum(amount_minor) AS total,
         0 AS bounced_n, 0 AS bounced_total, 0 AS open_n, 0 AS closed_n
    FROM cheques
   WHERE business_date BETWEEN $1 AND $2 AND status <> 'failed'
     AND ($3::text IS NULL OR currency = $3)
   GROUP BY 1, 2
  UNION ALL
  SELECT (bounced_at AT TIME ZONE $4)::date, currency, 0, 0, count(*), sum(amount_minor), 0, 0
    FROM cheques
   WHERE bounced_at >= ($1::date)::timestamp AT TIME ZONE $4
     AND bounced_at < ($2::date + 1)::timestamp AT TIME ZONE $4
     AND status = 'bounced' AND ($3::text IS NULL OR currency = $3)
   GROUP BY 1, 2
  UNION ALL
  SELECT business_date, currency, 0, 0, 0, 0,
         count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'closed')
    FROM cheque_batches
   WHERE business_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR currency = $3)
   GROUP BY 1, 2
)
SELECT day, currency, sum(n) AS n, sum(total) AS total, sum(bounced_n) AS bounced_n,
       sum(bounced_total) AS bounced_total, sum(open_n) AS open_n, sum(closed_n) AS closed_n
  FROM parts GROUP BY day, currency ORDER BY day DESC, currency
"""
# The back office's open batches, one part of the business metrics' queue depths.
OPEN_BATCHES_QUEUE = """
SELECT 'cheque_batches_open', count(*), max(now() - created_at) FROM cheque_batches
 WHERE status = 'open'
"""
# The batch's cheques (not failed or bounced) entered after $2.
ENTERED_SINCE = """
SELECT id, number, reference, amount_minor, currency, entered_at FROM cheques
 WHERE batch_id = $1 AND entered_at > $2 AND status IN ('recording', 'recorded')
 ORDER BY entered_at, number
"""
SHARE_LOCK_BATCH = "SELECT 1 FROM cheque_batches WHERE id = $1 FOR SHARE"
# The sequence is the depositor's next that day.
INSERT_BATCH = """
INSERT INTO cheque_batches (id, business_date, currency, depositor_staff_id, depositor_username,
       depositor_initials, sequence)
SELECT $1, $2, $3, $4, $5, $6, COALESCE(max(sequence), 0) + 1 FROM cheque_batches
 WHERE business_date = $2 AND currency = $3 AND depositor_staff_id = $4
"""
BOUNCING = """
UPDATE cheques SET status = 'bouncing', bounce_reason = $2, bounced_by = $3::jsonb,
       updated_at = now() WHERE id = $1
"""
RELEASE = "UPDATE cheques SET leased_until = NULL WHERE id = $1"
# Status `recording`.
INSERT_CHEQUE = """
INSERT INTO cheques (id, number, payment_number, reference, provider, account_id, account_name,
       invoice_id, invoice_number, amount_minor, currency, business_date, batch_id,
       depositor_staff_id, status, note, entered_by, client, api_key_id, idempotency_key,
       account_number)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'recording', $15,
       $16::jsonb, $17, $18, $19, $20)
"""


async def cheque_row(cheque_id: uuid.UUID, *, lock: bool = False) -> Row | None:
    rows = await fetch(
        f"{CHEQUE_SELECT} WHERE c.id = $1" + (" FOR UPDATE OF c" if lock else ""), cheque_id
    )
    return rows[0] if rows else None


async def slip_rows(batch_id: uuid.UUID) -> list[Row]:
    """What the batch deposits: a closed one's as they went to the bank, an open one's as
    they stand, oldest first."""
    return await fetch(
        f"{CHEQUE_SELECT} WHERE c.batch_id = $1 AND CASE WHEN b.status = 'closed'"
        " THEN c.deposited_at IS NOT NULL"
        " ELSE c.status IN ('recording', 'recorded', 'bouncing') END"
        " ORDER BY c.entered_at, c.number",
        batch_id,
    )


async def cheque_of_request(api_key_id: Any, key: str) -> Row | None:
    """The cheque an API key entered under this Idempotency-Key."""
    rows = await fetch(
        "SELECT id, status, failure FROM cheques WHERE api_key_id = $1 AND idempotency_key = $2",
        api_key_id,
        key,
    )
    return rows[0] if rows else None


async def same_cheque(provider: str, account_id: str, reference: str) -> Row | None:
    """The customer's cheque with this reference, recorded or being written."""
    rows = await fetch(
        "SELECT id, number FROM cheques WHERE provider = $1 AND account_id = $2"
        " AND reference = $3 AND status NOT IN ('failed', 'bounced')",
        provider,
        account_id,
        reference,
    )
    return rows[0] if rows else None


async def next_number(initials: str, business_date: date) -> int:
    """The next number of these initials that day (1, 2, ...): counted per initials, not per
    person, since two depositors may share them (Olga Petit and Oscar Perez) and the number is
    unique. Call inside the transaction that stores the cheque: the row stays locked until it
    commits, so no two cheques share one."""
    value = await fetch_value(
        "INSERT INTO cheque_number_sequences AS s (initials, business_date, last)"
        " VALUES ($1, $2, 1) ON CONFLICT (initials, business_date)"
        " DO UPDATE SET last = s.last + 1 RETURNING last",
        initials,
        business_date,
    )
    return int(value)


async def lease(cheque_id: uuid.UUID, status: str, seconds: int) -> bool:
    """The cheque in `status` taken for `seconds`, unless someone holds it."""
    rows = await fetch(
        "UPDATE cheques SET updated_at = now(),"
        " leased_until = now() + make_interval(secs => $3)"
        " WHERE id = $1 AND status = $2 AND (leased_until IS NULL OR leased_until < now())"
        " RETURNING id",
        cheque_id,
        status,
        seconds,
    )
    return bool(rows)


async def _leave(cheque_id: uuid.UUID, status: str, changes: str, *values: Any) -> bool:
    """`changes` made and the lease freed, if the cheque is still `status`."""
    rows = await fetch(
        f"UPDATE cheques SET {changes}, updated_at = now(), leased_until = NULL"  # noqa: S608
        f" WHERE id = $1 AND status = '{status}' RETURNING id",
        cheque_id,
        *values,
    )
    return bool(rows)


async def recorded(cheque_id: uuid.UUID, payment_id: str, invoice_status: str | None) -> bool:
    changes = "status = 'recorded', provider_payment_id = $2, invoice_status = $3"
    return await _leave(
        cheque_id, "recording", changes + ", recorded_at = now()", payment_id, invoice_status
    )


async def failed(cheque_id: uuid.UUID, failure: str) -> bool:
    return await _leave(cheque_id, "recording", "status = 'failed', failure = $2", failure)


async def bounced(cheque_id: uuid.UUID, invoice_status: str | None) -> bool:
    changes = "status = 'bounced', invoice_status = $2, bounced_at = now()"
    return await _leave(cheque_id, "bouncing", changes, invoice_status)


async def not_bounced(cheque_id: uuid.UUID) -> bool:
    changes = "status = 'recorded', bounce_reason = NULL, bounced_by = NULL"
    return await _leave(cheque_id, "bouncing", changes)


async def unfinished(older_than_seconds: float, most: int) -> list[uuid.UUID]:
    """Cheques left `recording` or `bouncing` that long and not leased, touched (so the next
    sweep takes others first)."""
    rows = await fetch(
        "UPDATE cheques SET updated_at = now() WHERE id IN ("
        " SELECT id FROM cheques WHERE status IN ('recording', 'bouncing')"
        " AND updated_at <= now() - make_interval(secs => $1)"
        " AND (leased_until IS NULL OR leased_until < now())"
        " ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id",
        older_than_seconds,
        most,
    )
    return [row["id"] for row in rows]


async def batch_row(batch_id: uuid.UUID) -> Row | None:
    rows = await fetch(BATCH_SELECT + " WHERE b.id = $1", batch_id)
    return rows[0] if rows else None


async def open_batch_id(business_date: date, currency: str, depositor_id: int) -> uuid.UUID | None:
    """The open batch of (day, currency, depositor), share-locked."""
    rows = await fetch(
        "SELECT id FROM cheque_batches WHERE business_date = $1 AND currency = $2"
        " AND depositor_staff_id = $3 AND status = 'open' FOR SHARE",
        business_date,
        currency,
        depositor_id,
    )
    return uuid.UUID(str(rows[0]["id"])) if rows else None


async def locked_batch(batch_id: uuid.UUID) -> Row | None:
    rows = await fetch("SELECT * FROM cheque_batches WHERE id = $1 FOR UPDATE", batch_id)
    return rows[0] if rows else None


async def batch_counts(batch_id: uuid.UUID) -> dict[str, int]:
    """The total and count of recorded cheques, and how many are still being written."""
    rows = await fetch(
        "SELECT COALESCE(sum(amount_minor) FILTER (WHERE status = 'recorded'), 0) AS total,"
        " count(*) FILTER (WHERE status = 'recorded') AS count,"
        " count(*) FILTER (WHERE status IN ('recording', 'bouncing')) AS busy"
        " FROM cheques WHERE batch_id = $1",
        batch_id,
    )
    return {key: int(value) for key, value in rows[0].items()}


async def deposit_and_close(
    batch_id: uuid.UUID, closer_id: int, closer_username: str, scanner_total: int
) -> None:
    """The recorded cheques marked deposited (the slip lists them, also one that bounces
    later), and the batch closed."""
    await fetch(
        "UPDATE cheques SET deposited_at = now() WHERE batch_id = $1 AND status = 'recorded'",
        batch_id,
    )
    await fetch(
        "UPDATE cheque_batches SET status = 'closed', closed_at = now(),"
        " closed_by_staff_id = $2, closed_by_username = $3,"
        " scanner_total_minor = $4 WHERE id = $1",
        batch_id,
        closer_id,
        closer_username,
        scanner_total,
    )


async def insert_scan(*values: Any) -> Row:
    """`values` in the column order below; the scan's id and time."""
    rows = await fetch(
        "INSERT INTO cheque_batch_scans (batch_id, scanner_total_minor, batch_total_minor,"
        " cheque_count, matched, by_username, actor, scanned_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id, at",
        *values,
    )
    return rows[0]


async def previous_scan_at(batch_id: uuid.UUID, scan_id: int) -> datetime | None:
    rows = await fetch(
        "SELECT at FROM cheque_batch_scans WHERE batch_id = $1 AND id < $2"
        " ORDER BY id DESC LIMIT 1",
        batch_id,
        scan_id,
    )
    return rows[0]["at"] if rows else None
