"""This process's lease: a session-level advisory lock, held on a connection of its own for as
long as the process lives, that says "I am still here".

Each idempotency claim records the lease id of the process that took it. A retry that finds the
claim still running asks PostgreSQL whether that lease is held; if not (the process was killed,
or PostgreSQL restarted and the process has not taken its lease again), the claim is taken over
at once instead of after `LOCK_TIMEOUT`. PostgreSQL releases a session's locks the moment the
session ends, so no clock or heartbeat is involved.

The lock is taken again whenever its connection is lost (one reconnect at a time, as the
blocklist mirror does), and lazily on first use (in-process test clients run no lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import secrets
from typing import Any

import asyncpg

from gateway.db.connection import engine
from gateway.log import get_logger

# Advisory locks in the two-key form (objsubid 2) never meet the one-key locks used elsewhere.
LEASE_NAMESPACE = 0x62_67_6C_65  # "bgle"
_RETRY_SECONDS = 0.25
_log = get_logger("gateway.idempotency")


class ProcessLease:
    def __init__(self) -> None:
        self.id = secrets.randbelow(2**31 - 1) + 1  # a positive int4, new for each process
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._reconnecting: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def ensure_held(self) -> None:
        """Cheap when held (no round trip); otherwise take the lock before the caller claims
        anything. Raises the driver's error while PostgreSQL is unreachable."""
        if self._loop is not asyncio.get_running_loop():
            self._loop, self._connection, self._reconnecting = (
                asyncio.get_running_loop(),
                None,
                None,
            )
            self._lock = asyncio.Lock()
        if self.held:
            return
        async with self._lock:
            if not self.held:
                await self._take()

    async def _take(self) -> None:
        connection = await asyncpg.connect(engine().config["dsn"])
        try:
            await connection.execute("SELECT pg_advisory_lock($1, $2)", LEASE_NAMESPACE, self.id)
        except BaseException:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await connection.close()
            raise
        connection.add_termination_listener(self._lost)
        self._connection = connection
        self._stopping = False

    def _lost(self, _connection: Any) -> None:
        if self._stopping or (self._reconnecting and not self._reconnecting.done()):
            return
        _log.warning("idempotency lease lost its connection; taking it again", lease=self.id)
        # A context of its own: never a caller's Piccolo transaction.
        self._reconnecting = asyncio.get_running_loop().create_task(
            self._retake(), context=contextvars.Context()
        )

    async def _retake(self) -> None:
        while not self._stopping and not self.held:
            try:
                await self.ensure_held()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await asyncio.sleep(_RETRY_SECONDS)

    async def stop(self) -> None:
        if self._loop is not asyncio.get_running_loop():
            return
        self._stopping = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self.held:
            assert self._connection is not None
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self._connection.close()
        self._connection = None


lease = ProcessLease()
