"""This process's lease: a session-level advisory lock, held on a connection of its own for as
long as the process lives, that says "I am still here".

Each idempotency claim records the lease id of the process that took it. A retry that finds the
claim still running asks PostgreSQL whether that lease is held; if not (the process was killed,
or PostgreSQL restarted and the process has not taken its lease again), the claim is taken over
at once instead of after `LOCK_TIMEOUT`. PostgreSQL releases a session's locks the moment the
session ends, so no clock or heartbeat is involved.

The lease is taken again, under a new id, whenever its connection is lost: the old session may
outlive the connection on the server (a NAT or conntrack drop, a half-open TCP connection) and
keep the old id locked for a long while. Its claims then look alive until that session ends, and
orphaned afterwards, which is right: this process lost track of nothing but the lock.

Nothing ever waits for the lease. Taking it never blocks (`pg_try_advisory_lock`, a connect
timeout), and a request that finds it not held claims without a holder (see `holder`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import secrets
from typing import Any

import asyncpg

from gateway.core.db.connection import engine
from gateway.core.log import get_logger

# Advisory locks in the two-key form (objsubid 2) never meet the one-key locks used elsewhere.
LEASE_NAMESPACE = 0x62_67_6C_65  # "bgle"
_CONNECT_SECONDS = 5.0
_RETRY_SECONDS = 0.25
_ID_TRIES = 5  # another process holding a fresh random id is already a one-in-millions event
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)
_log = get_logger("gateway.idempotency")


class NoFreeLeaseIdError(Exception):
    """No free lease id was found (never seen: ids are random int4s)."""


def _new_id() -> int:
    return secrets.randbelow(2**31 - 1) + 1  # a positive int4


class ProcessLease:
    def __init__(self) -> None:
        self.id: int | None = None  # the id locked now, with `_connection`
        self._connection: asyncpg.Connection | None = None
        self._taking: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    def holder(self) -> int | None:
        """The lease id a claim made now should record, without waiting: None while the lease
        is not held (a take then starts in the background).

        A claim without a holder is taken over only after `LOCK_TIMEOUT`, as before leases
        existed: the fast takeover is lost for it, never the promise. Recording the id being
        taken instead would let another process's retry find it unlocked and run the request a
        second time while this one still works on it; answering 503 would stop every write for
        a lock that only speeds up recovery, although the database answers."""
        self._adopt_loop()
        if self.held:
            return self.id
        self._stopping = False
        self._take_in_background()
        return None

    async def ensure_held(self) -> None:
        """At start-up: take the lease. Raises the driver's error (within the connect timeout)
        while PostgreSQL is unreachable."""
        self._adopt_loop()
        self._stopping = False
        if not self.held:
            await self._take()

    def _adopt_loop(self) -> None:
        # Tests run each app on a loop of its own; a connection never crosses loops.
        if self._loop is not asyncio.get_running_loop():
            self._loop = asyncio.get_running_loop()
            self._connection, self._taking, self.id = None, None, None

    async def _take(self) -> None:
        connection = await asyncpg.connect(engine().config["dsn"], timeout=_CONNECT_SECONDS)
        try:
            taken = await self._lock_a_new_id(connection)
        except BaseException:
            await _close(connection)
            raise
        if self.held or self._stopping:  # another take won meanwhile, or the process stops
            await _close(connection)
            return
        connection.add_termination_listener(self._lost)
        self._connection, self.id = connection, taken
        _log.info("idempotency lease taken", lease=taken)

    @staticmethod
    async def _lock_a_new_id(connection: asyncpg.Connection) -> int:
        for _ in range(_ID_TRIES):
            candidate = _new_id()
            if await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)",
                LEASE_NAMESPACE,
                candidate,
                timeout=_CONNECT_SECONDS,
            ):
                return candidate
        raise NoFreeLeaseIdError

    def _lost(self, _connection: Any) -> None:
        if self._stopping:
            return
        _log.warning("idempotency lease lost its connection; taking a new one", lease=self.id)
        self._take_in_background()

    def _take_in_background(self) -> None:
        if self._taking is None or self._taking.done():
            # A context of its own: never a caller's Piccolo transaction.
            self._taking = asyncio.get_running_loop().create_task(
                self._keep_taking(), context=contextvars.Context()
            )

    async def _keep_taking(self) -> None:
        while not self._stopping and not self.held:
            try:
                await self._take()
            except (OSError, TimeoutError, NoFreeLeaseIdError, *_DRIVER_ERRORS):
                await asyncio.sleep(_RETRY_SECONDS)

    async def stop(self) -> None:
        if self._loop is not asyncio.get_running_loop():
            return
        self._stopping = True
        if self._taking is not None:
            self._taking.cancel()
        if self.held:
            assert self._connection is not None
            await _close(self._connection)
        self._connection, self.id = None, None


async def _close(connection: asyncpg.Connection) -> None:
    with contextlib.suppress(OSError, TimeoutError, *_DRIVER_ERRORS):
        await connection.close(timeout=_CONNECT_SECONDS)


lease = ProcessLease()
