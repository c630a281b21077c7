"""Plain SQL over Piccolo's engine and pool, for statements on the hot path or beyond the
query builder. Statements join the caller's Piccolo transaction when there is one."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from gateway.core.db.sturdy import AfterCommit, SturdyTransaction, run_callbacks
from gateway.core.log import get_logger

_log = get_logger("db")


@functools.cache
def engine() -> PostgresEngine:
    """The engine of PICCOLO_CONF, looked up once: every statement asks for it, and Piccolo's
    lookup imports the configuration module each time. Call forget_engine() after pointing
    PICCOLO_CONF elsewhere (nothing does today)."""
    found = engine_finder()
    assert isinstance(found, PostgresEngine)
    return found


def forget_engine() -> None:
    engine.cache_clear()


async def fetch_value(sql: str, *args: Any) -> Any:
    rows = await fetch(sql, *args)
    return next(iter(rows[0].values())) if rows else None


async def _keep_session(connection: Any) -> None:
    """Nothing to undo when a connection goes back to the pool: the gateway keeps no session
    state (settings are `SET LOCAL`, advisory locks are per transaction, and LISTEN uses a
    connection of its own). asyncpg still rolls back an open transaction first. Its default
    reset is a second round trip after every statement."""


async def start_pool(max_size: int) -> None:
    await engine().start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session)


async def close_pool() -> None:
    await engine().close_connection_pool()


def in_transaction() -> bool:
    """Whether a transaction is open here: its statements share one connection, one at a time."""
    return engine().current_transaction.get() is not None


def _runner() -> Any:
    """The open transaction's connection, or the pool: where a statement runs."""
    database = engine()
    transaction = database.current_transaction.get()
    if transaction is not None:
        return transaction.connection
    return pool()


def pool() -> Any:
    """The asyncpg pool, for work that takes a connection of its own (`batches`)."""
    database = engine()
    assert database.pool is not None, "start_pool() first"
    return database.pool


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run SQL with asyncpg's `$1` placeholders and return the rows as dicts. No query builder
    in between: these are the statements every API request runs."""
    return [dict(record) for record in await _runner().fetch(sql, *args)]


async def records(sql: str, *args: Any) -> list[Any]:
    """`fetch`'s rows as asyncpg's records (read by name alike), for paths that read thousands
    of rows, such as the audit trail's sealer and verify(): no dict built per row."""
    return list(await _runner().fetch(sql, *args))


async def written(sql: str, *args: Any) -> int:
    """How many rows `sql` (an INSERT) wrote, from its status ("INSERT 0 1"): no row sent back
    to read."""
    status: str = await _runner().execute(sql, *args)
    return int(status.rsplit(" ", 1)[1])


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """Piccolo's transaction (joined when one is open), typed so that mypy knows an exception
    inside it always propagates."""
    async with engine().transaction():
        yield


async def after_commit(callback: AfterCommit) -> None:
    """Run `callback` once the outermost transaction open now commits (at once when none is
    open); never after a rollback. A failing callback is logged, never raised. Works whichever
    way the transaction was entered (`transaction()` here or `engine().transaction()`)."""
    current = engine().current_transaction.get()
    if current is None:
        await run_callbacks([callback])
    elif isinstance(current, SturdyTransaction):
        current.after_commit.append(callback)
    else:  # an engine without the hook: the callback's work must be caught up otherwise
        _log.warning("after-commit callback dropped: the transaction has no hook")
