"""The list of corrections, newest first, by keyset on (created_at, id)."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.core.cursor import decode_cursor, encode_cursor
from gateway.corrections import queries
from gateway.corrections.records import read_of, steps_of
from gateway.corrections.schemas import CorrectionPage
from gateway.tickets import TicketLookup

MAX_LIMIT = 200


async def list_corrections(
    *,
    status: str | None,
    provider: str | None,
    account_id: str | None,
    client: str | None,
    ticket: TicketLookup | None = None,
    cursor: str | None,
    limit: int,
) -> CorrectionPage:
    """`client`: only that client's (an API key's view); None: every correction."""
    limit = max(1, min(limit, MAX_LIMIT))
    clauses: list[str] = []
    values: list[Any] = []

    def where(sql: str, value: Any) -> None:
        values.append(value)
        clauses.append(sql.replace("?", f"${len(values)}"))

    if status is not None:
        where("status = ?", status)
    if provider is not None:
        where("provider = ?", provider)
    if account_id is not None:
        where("account_id = ?", account_id)
    if client is not None:
        where("client = ?", client)
    if ticket is not None and ticket.ticket is not None:
        where("ticket = ?", ticket.ticket)
    elif ticket is not None:  # the id alone: that id in any system
        where("substr(ticket, strpos(ticket, ':') + 1) = ?", ticket.ticket_id)
    if cursor is not None:
        created_at, last_id = decode_cursor(cursor, uuid.UUID)
        values += [created_at, last_id]
        clauses.append(f"(created_at, id) < (${len(values) - 1}, ${len(values)})")
    values.append(limit + 1)
    rows = await queries.page_rows(clauses, values)
    more = len(rows) > limit
    rows = rows[:limit]
    steps = await steps_of([row["id"] for row in rows])
    last = rows[-1] if more and rows else None
    return CorrectionPage(
        items=[read_of(row, steps[row["id"]]) for row in rows],
        next_cursor=encode_cursor(last["created_at"], last["id"]) if last else None,
    )
