"""Piccolo's PostgreSQL engine, with transactions that survive losing their connection.

Piccolo's transaction resets the context variable that names the current transaction (and hands
its connection back) only after its COMMIT or ROLLBACK succeeds. When PostgreSQL goes away
mid-transaction the ROLLBACK fails too, and the variable stays set: every later statement of the
same request (the idempotency claim's last touch, in the body guard) then went to that dead
connection ("connection has been released back to the pool") and the client got a 500.
"""

from __future__ import annotations

import contextlib
from typing import Any

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction


class SturdyTransaction(PostgresTransaction):
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
