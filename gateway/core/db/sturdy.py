"""Piccolo's PostgreSQL engine, with transactions that survive losing their connection.

Piccolo's transaction resets the context variable that names the current transaction (and hands
its connection back) only after its COMMIT or ROLLBACK succeeds. When PostgreSQL goes away
mid-transaction the ROLLBACK fails too, and the variable stays set: every later statement of the
same request (the idempotency claim's last touch, in the body guard) then went to that dead
connection ("connection has been released back to the pool") and the client got a 500.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from gateway.core.log import get_logger

AfterCommit = Callable[[], Awaitable[None]]

_log = get_logger("db")


async def run_callbacks(callbacks: list[AfterCommit]) -> None:
    """Each callback once, in order; a failing one is logged, never raised (the change it
    follows is committed already)."""
    for callback in callbacks:
        try:
            await callback()
        except Exception as error:
            _log.warning("an after-commit callback failed", error=repr(error))


class SturdyTransaction(PostgresTransaction):
    """Also runs the callbacks registered with `gateway.core.db.connection.after_commit` once the
    outermost transaction has committed (never after a rollback)."""

    __slots__ = ("after_commit",)

    def __init__(self, engine: PostgresEngine, allow_nested: bool = True) -> None:
        super().__init__(engine, allow_nested)
        self.after_commit: list[AfterCommit] = []

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()  # type: ignore[no-untyped-call]
        try:
            self.transaction = self.connection.transaction()
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back()
        if self._committed:
            callbacks, self.after_commit = self.after_commit, []
            await run_callbacks(callbacks)
        return exception is None

    async def _give_back(self) -> None:
        # A connection that is gone is closed by the pool on release; nothing else to do.
        with contextlib.suppress(Exception):
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()


class SturdyPostgresEngine(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return SturdyTransaction(engine=self, allow_nested=allow_nested)
