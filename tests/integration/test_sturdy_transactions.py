"""A transaction whose connection dies under it (PostgreSQL killed, the session terminated)
leaves no trace in the request that ran it: the next statement runs on a live connection."""

from __future__ import annotations

import contextlib

import asyncpg

from gateway.core.db.connection import engine, fetch_value, transaction


async def test_a_statement_after_a_transaction_cut_off_runs_on_a_live_connection() -> None:
    with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError):
        async with transaction():
            await fetch_value("SELECT pg_terminate_backend(pg_backend_pid())")
    assert engine().current_transaction.get() is None
    assert await fetch_value("SELECT 1") == 1
