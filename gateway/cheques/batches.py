"""Daily batches per currency and depositor: the open one a new cheque joins (opened with the
next sequence when there is none, or when the last one closed), and the close against the
scanner's total, by a second person. Every close attempt is kept as a scan row."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from audit.entry import Actor
from gateway.cheques.checks import StaffRow, staff_by
from gateway.cheques.records import actor_json
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.records import as_json
from gateway.i18n import Message
from gateway.staff.roles import Role

CLOSERS = (Role.OPERATIONS.value, Role.TEAM_LEAD.value)


async def open_batch(
    business_date: date, currency: str, depositor: StaffRow, depositor_initials: str
) -> uuid.UUID:
    """The open batch of (day, currency, depositor), opened now when there is none. Call inside
    the transaction that adds the cheque: the batch row is share-locked until it commits, so a
    close waits for the cheque (and a cheque waiting on a close joins the next batch)."""
    key = (business_date, currency, depositor.id)
    select = (
        "SELECT id FROM cheque_batches WHERE business_date = $1 AND currency = $2"
        " AND depositor_staff_id = $3 AND status = 'open' FOR SHARE"
    )
    rows = await fetch(select, *key)
    if rows:
        return uuid.UUID(str(rows[0]["id"]))
    # One opener at a time per (day, currency, depositor): the sequence is theirs alone.
    await fetch(
        "SELECT pg_advisory_xact_lock(hashtextextended('cheque-batch:' || $1, 0))",
        f"{business_date}:{currency}:{depositor.id}",
    )
    rows = await fetch(select, *key)
    if rows:
        return uuid.UUID(str(rows[0]["id"]))
    batch_id = uuid.uuid4()
    await fetch(
        "INSERT INTO cheque_batches (id, business_date, currency, depositor_staff_id,"
        " depositor_username, depositor_initials, sequence)"
        " SELECT $1, $2, $3, $4, $5, $6, COALESCE(max(sequence), 0) + 1 FROM cheque_batches"
        " WHERE business_date = $2 AND currency = $3 AND depositor_staff_id = $4",
        batch_id,
        business_date,
        currency,
        depositor.id,
        depositor.username,
        depositor_initials,
    )
    return batch_id


async def closer_of(staff_id: int | None, username: str) -> StaffRow:
    """Who closes: the signed-in member (staff), or `closed_by` (an API key)."""
    found = await staff_by(staff_id=staff_id) if staff_id is not None else None
    if found is None:
        found = await staff_by(username=username)
    if found is None or not found.active or found.role not in CLOSERS:
        raise BillingError(
            ErrorCode.CHEQUE_BATCH_SECOND_PERSON,
            Message(
                "{username!r} is not an active operations member or team lead: a batch is "
                "closed by a second person of the operations team or a team lead.",
                username=username,
            ),
            extra={"field": "closed_by"},
        )
    return found


def refuse_depositor(batch: dict[str, Any], closer: StaffRow) -> None:
    if closer.id == batch["depositor_staff_id"]:
        raise BillingError(
            ErrorCode.CHEQUE_BATCH_SECOND_PERSON,
            Message(
                "{username} deposited this batch, so another operations member or a team lead "
                "scans the cheques and closes it.",
                username=closer.username,
            ),
        )


async def locked_batch(batch_id: uuid.UUID) -> dict[str, Any] | None:
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


async def store_scan(
    batch_id: uuid.UUID,
    scanner_total: int,
    counts: dict[str, int],
    closer: StaffRow,
    actor: Actor,
    scanned_at: datetime | None,
) -> dict[str, Any]:
    rows = await fetch(
        "INSERT INTO cheque_batch_scans (batch_id, scanner_total_minor, batch_total_minor,"
        " cheque_count, matched, by_username, actor, scanned_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id, at",
        batch_id,
        scanner_total,
        counts["total"],
        counts["count"],
        scanner_total == counts["total"],
        closer.username,
        as_json(actor_json(actor)),
        scanned_at,
    )
    return rows[0]


async def cheques_since(
    batch_id: uuid.UUID, scan_id: int, scanned_at: datetime | None
) -> list[dict[str, Any]]:
    """The batch's cheques entered after the scanner ran: after `scanned_at`, or, without it,
    after the batch's previous scan (none on the first)."""
    since = scanned_at
    if since is None:
        before = await fetch(
            "SELECT at FROM cheque_batch_scans WHERE batch_id = $1 AND id < $2"
            " ORDER BY id DESC LIMIT 1",
            batch_id,
            scan_id,
        )
        if not before:
            return []
        since = before[0]["at"]
    rows = await fetch(
        "SELECT id, number, reference, amount_minor, currency, entered_at FROM cheques"
        " WHERE batch_id = $1 AND entered_at > $2 AND status IN ('recording', 'recorded')"
        " ORDER BY entered_at, number",
        batch_id,
        since,
    )
    return [
        {
            "id": str(row["id"]),
            "number": row["number"],
            "reference": row["reference"],
            "amount": {"amount_minor": int(row["amount_minor"]), "currency": row["currency"]},
            "entered_at": row["entered_at"].isoformat(),
        }
        for row in rows
    ]
