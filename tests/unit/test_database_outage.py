"""Which failures are a database outage (503 with Retry-After), and which are our bugs (500)."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import psycopg_pool
import pytest
from procrastinate.exceptions import ConnectorException

from gateway.core.db.outage import is_database_outage


def _raised(error: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise error from cause
    except BaseException as caught:
        return caught


async def _refused_by_asyncpg() -> BaseException:
    try:
        await asyncpg.connect("postgresql://nobody@127.0.0.1:1/none", timeout=5)
    except OSError as refused:
        return refused
    raise AssertionError("port 1 answered")


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InterfaceError("pool is closing"),
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        psycopg.OperationalError("connection failed"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"),
        _raised(ConnectorException("Database error."), psycopg.OperationalError("gone")),
    ],
    ids=repr,
)
def test_connection_failures_are_outages(error: BaseException) -> None:
    assert is_database_outage(error)


def test_a_refused_connection_is_an_outage_when_the_driver_meets_it() -> None:
    refused = asyncio.run(_refused_by_asyncpg())
    assert is_database_outage(refused)
    assert is_database_outage(_raised(RuntimeError("while filing"), refused))


@pytest.mark.parametrize(
    "error",
    [
        _raised(ConnectionRefusedError("a provider refused")),  # not raised in a driver
        _raised(FileNotFoundError("no such file")),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (12) is in progress"
        ),
        asyncpg.UniqueViolationError("duplicate key"),
        RuntimeError("a bug"),
    ],
    ids=repr,
)
def test_other_failures_are_not(error: BaseException) -> None:
    assert not is_database_outage(error)
