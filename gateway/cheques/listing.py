"""The lists of cheques and of batches, newest first, by keyset on (entered_at or created_at,
id), with filters."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from gateway.cheques.queries import BATCH_SELECT, CHEQUE_SELECT
from gateway.cheques.records import batch_read, cheque_read
from gateway.cheques.schemas import BatchPage, ChequePage
from gateway.core.cursor import decode_cursor, encode_cursor
from gateway.core.db.connection import fetch

MAX_LIMIT = 200


class _Where:
    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.values: list[Any] = []

    def add(self, sql: str, value: Any) -> None:
        if value is not None:
            self.values.append(value)
            self.clauses.append(sql.replace("?", f"${len(self.values)}"))

    def after(self, column: str, id_column: str, cursor: str | None) -> None:
        if cursor is not None:
            at, last_id = decode_cursor(cursor, uuid.UUID)
            self.values += [at, last_id]
            n = len(self.values)
            self.clauses.append(f"({column}, {id_column}) < (${n - 1}, ${n})")

    def sql(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


async def list_cheques(
    *,
    business_date: date | None,
    currency: str | None,
    status: str | None,
    batch_id: uuid.UUID | None,
    provider: str | None,
    account_id: str | None,
    cursor: str | None,
    limit: int,
) -> ChequePage:
    limit = max(1, min(limit, MAX_LIMIT))
    where = _Where()
    where.add("c.business_date = ?", business_date)
    where.add("c.currency = ?", currency.upper() if currency else None)
    where.add("c.status = ?", status)
    where.add("c.batch_id = ?", batch_id)
    where.add("c.provider = ?", provider)
    where.add("c.account_id = ?", account_id)
    where.after("c.entered_at", "c.id", cursor)
    where.values.append(limit + 1)
    rows = await fetch(
        f"{CHEQUE_SELECT}{where.sql()}"
        f" ORDER BY c.entered_at DESC, c.id DESC LIMIT ${len(where.values)}",
        *where.values,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return ChequePage(
        items=[cheque_read(row) for row in rows],
        next_cursor=encode_cursor(last["entered_at"], last["id"]) if last else None,
    )


async def list_batches(
    *,
    business_date: date | None,
    status: str | None,
    currency: str | None,
    depositor: str | None,
    cursor: str | None,
    limit: int,
) -> BatchPage:
    limit = max(1, min(limit, MAX_LIMIT))
    where = _Where()
    where.add("b.business_date = ?", business_date)
    where.add("b.status = ?", status)
    where.add("b.currency = ?", currency.upper() if currency else None)
    where.add("b.depositor_username = ?", depositor.strip().lower() if depositor else None)
    where.after("b.created_at", "b.id", cursor)
    where.values.append(limit + 1)
    rows = await fetch(
        BATCH_SELECT
        + where.sql()
        + f" ORDER BY b.created_at DESC, b.id DESC LIMIT ${len(where.values)}",
        *where.values,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return BatchPage(
        items=[batch_read(row) for row in rows],
        next_cursor=encode_cursor(last["created_at"], last["id"]) if last else None,
    )
