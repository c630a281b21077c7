"""Daily batches per currency and depositor: the open one a new cheque joins (opened with the
next sequence when there is none, or when the last one closed), and the close against the
scanner's total, by a second person. Every close attempt is kept as a scan row."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from audit.entry import Actor
from gateway.cheques import queries
from gateway.cheques.checks import StaffRow, staff_by
from gateway.cheques.records import actor_json
from gateway.core.db.connection import fetch
from gateway.core.db.rows import as_json
from gateway.core.errors import BillingError, ErrorCode
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
    found = await queries.open_batch_id(*key)
    if found is not None:
        return found
    # One opener at a time per (day, currency, depositor): the sequence is theirs alone.
    await fetch(
        "SELECT pg_advisory_xact_lock(hashtextextended('cheque-batch:' || $1, 0))",
        f"{business_date}:{currency}:{depositor.id}",
    )
    found = await queries.open_batch_id(*key)
    if found is not None:
        return found
    batch_id = uuid.uuid4()
    await fetch(
        queries.INSERT_BATCH,
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


async def store_scan(
    batch_id: uuid.UUID,
    scanner_total: int,
    counts: dict[str, int],
    closer: StaffRow,
    actor: Actor,
    scanned_at: datetime | None,
) -> dict[str, Any]:
    return await queries.insert_scan(
        batch_id,
        scanner_total,
        counts["total"],
        counts["count"],
        scanner_total == counts["total"],
        closer.username,
        as_json(actor_json(actor)),
        scanned_at,
    )


async def cheques_since(
    batch_id: uuid.UUID, scan_id: int, scanned_at: datetime | None
) -> list[dict[str, Any]]:
    """The batch's cheques entered after the scanner ran: after `scanned_at`, or, without it,
    after the batch's previous scan (none on the first)."""
    since = scanned_at
    if since is None:
        since = await queries.previous_scan_at(batch_id, scan_id)
        if since is None:
            return []
    rows = await fetch(queries.ENTERED_SINCE, batch_id, since)
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
