"""Tell a database that cannot be reached from any other failure.

Such a failure is the client's cue to retry later (503 with Retry-After), not our bug (500).
The API reaches PostgreSQL through asyncpg, jobs are deferred through psycopg (Procrastinate
wraps its errors in ConnectorException, with the driver's error as the cause): the whole chain
of causes is looked at.
"""

from __future__ import annotations

import asyncpg
import psycopg

from gateway.core.errors import BillingError, ErrorCode

RETRY_AFTER_SECONDS = 5
DETAIL = (
    "The gateway cannot reach its database just now; nothing was lost. Retry in a few seconds "
    "with the same Idempotency-Key."
)

_OUTAGES = (
    psycopg.OperationalError,  # psycopg's connection failures, psycopg_pool's PoolTimeout
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was lost
    asyncpg.CannotConnectNowError,  # starting up or in recovery
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # A database that takes no writes (a failover onto a standby, default_transaction_read_only):
    # every request writes (its key, its rate limit), and can only be retried later.
    asyncpg.ReadOnlySQLTransactionError,
    psycopg.errors.ReadOnlySqlTransaction,
)
# Its SQLSTATE (55000) has other meanings: only this one at connecting is an outage
# (ALTER DATABASE … ALLOW_CONNECTIONS false, a database being dropped or restored).
_NOT_ACCEPTING = "is not currently accepting connections"
# asyncpg's InterfaceError and InternalClientError also mean misuse (a bug); only these mean
# "gone". State 2 is asyncpg's ERROR_CONSUME: the connection got an error (the FATAL a dying
# backend sends) and never the ReadyForQuery that ends it.
_GONE = ("connection is closed", "pool is closing", "pool is closed", "another operation (2)")
_DRIVERS = ("asyncpg", "psycopg", "psycopg_pool", "piccolo.engine")


def is_database_outage(error: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if _is_outage(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, _OUTAGES):
        return True
    if isinstance(
        error,
        asyncpg.ObjectNotInPrerequisiteStateError | psycopg.errors.ObjectNotInPrerequisiteState,
    ):
        return _NOT_ACCEPTING in str(error)
    if isinstance(error, asyncpg.InterfaceError | asyncpg.InternalClientError):
        return any(text in str(error) for text in _GONE)
    # Refused, reset, unreachable or timed out while connecting: only when a driver raised it,
    # so that a failing file or provider call is not mistaken for the database.
    return isinstance(error, OSError) and _raised_in_a_driver(error)


def _raised_in_a_driver(error: BaseException) -> bool:
    frame = error.__traceback__
    while frame is not None:
        if str(frame.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVERS):
            return True
        frame = frame.tb_next
    return False


def unavailable() -> BillingError:
    """The 503 every database outage answers, wherever it is caught."""
    return BillingError(
        ErrorCode.SERVICE_UNAVAILABLE,
        DETAIL,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
