"""Helpers over Piccolo's engine for statements its query builder can't express.

Statements run inside the caller's Piccolo transaction when there is one.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString


def engine() -> PostgresEngine:
    found = engine_finder()
    assert isinstance(found, PostgresEngine)
    return found


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run SQL with `{}` placeholders (Piccolo's style) and return the rows as dicts."""
    rows = await engine().run_querystring(QueryString(sql, *args))
    return [dict(row) for row in rows]


async def fetch_value(sql: str, *args: Any) -> Any:
    rows = await fetch(sql, *args)
    return next(iter(rows[0].values())) if rows else None


async def start_pool(max_size: int) -> None:
    await engine().start_connection_pool(min_size=1, max_size=max_size)


async def close_pool() -> None:
    await engine().close_connection_pool()


async def fetch_fast(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Like `fetch`, with asyncpg's own `$1` placeholders and no query builder in between:
    for the statements every API request runs. Joins the caller's Piccolo transaction."""
    database = engine()
    transaction = database.current_transaction.get()
    if transaction is not None:
        records = await transaction.connection.fetch(sql, *args)
    else:
        assert database.pool is not None, "start_pool() first"
        records = await database.pool.fetch(sql, *args)
    return [dict(record) for record in records]
