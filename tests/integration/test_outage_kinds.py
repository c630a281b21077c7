"""Two ways a reachable PostgreSQL still takes no request, each a 503 to retry later rather
than a 500 (outside test, 2026-12-06): a database refusing connections (ALLOW_CONNECTIONS
false, one being restored) and a read-only one (a failover onto a standby). The errors are
PostgreSQL's own, raised by the real drivers."""

from __future__ import annotations

import secrets

import asyncpg
import httpx
import psycopg
import pytest

from gateway.core.db.connection import fetch
from gateway.core.db.outage import is_database_outage
from gateway.core.db.server import with_database
from tests.database import superuser


async def test_a_database_refusing_connections_is_an_outage(server_url: str) -> None:
    name = f"bg_closed_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" ALLOW_CONNECTIONS false')
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError) as refused:
            await asyncpg.connect(with_database(server_url, name))
        assert is_database_outage(refused.value)
        with pytest.raises(psycopg.OperationalError) as refused_too:
            await psycopg.AsyncConnection.connect(with_database(server_url, name))
        assert is_database_outage(refused_too.value)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()


async def test_a_read_only_database_is_an_outage(database_url: str) -> None:
    async with superuser() as connection:
        await connection.execute("SET default_transaction_read_only = on")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError) as refused:
            await connection.execute("CREATE TABLE never_made (id integer)")
    assert is_database_outage(refused.value)


async def test_other_errors_of_the_same_state_are_not_outages(database_url: str) -> None:
    """SQLSTATE 55000 has other meanings: a sequence read before any nextval is a bug."""
    async with superuser() as connection:
        await connection.execute("CREATE TEMP SEQUENCE never_read")
        with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError) as refused:
            await connection.fetchval("SELECT currval('never_read')")
    assert not is_database_outage(refused.value)


async def test_readiness_says_no_while_the_database_is_read_only(
    http: httpx.AsyncClient, database_url: str
) -> None:
    from gateway.core.db.connection import close_pool, start_pool
    from gateway.fraud.wiring import blocklist_service

    await blocklist_service().mirror.ensure_started()  # as the lifespan does before serving
    assert (await http.get("/health/ready")).status_code == 200
    role = (await fetch("SELECT current_user AS role"))[0]["role"]

    async def reconnect_as(setting: str) -> None:
        async with superuser() as connection:
            await connection.execute(f'ALTER ROLE "{role}" {setting}')
        await close_pool()  # new connections take the role's setting
        await start_pool(10)

    await reconnect_as("SET default_transaction_read_only = on")
    try:
        ready = await http.get("/health/ready")
        assert ready.status_code == 503, ready.text
        assert "takes no writes" in ready.json()["detail"]
        assert ready.headers["retry-after"]
    finally:
        await reconnect_as("RESET default_transaction_read_only")
    after = await http.get("/health/ready")
    assert after.status_code == 200, after.text
