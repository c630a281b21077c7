"""Group commit for the busiest statement: filings that arrive while one is at PostgreSQL go
there together, pipelined in one implicit transaction (asyncpg's `fetchmany`: every Bind and
Execute, then one Sync), so a burst of N filings costs one round trip and one commit, not N.

What each caller sees is what `fetch` gives it alone:
- a statement that is alone (no load) runs alone, at once: no waiting for company;
- a batch commits as a whole or not at all, so when one statement fails (a key or a ticket
  taken, a deadlock, the connection lost) the others run again, each alone, and every caller
  gets its own answer or its own error. Nothing of the failed batch was committed, and a
  statement that cannot tell whether its batch committed finds its idempotency key taken, as
  after any lost connection;
- a statement of the batch sees the ones before it (one transaction), as if they had
  committed just before it;
- a caller cancelled while it waits is left out of the next batch (nothing of it is written).
  That is a cancelled task: a client that hangs up does not cancel its request, which is
  filed, and whose retry hears the stored answer, as without batches;
- a statement waiting on a row held elsewhere holds up no other: the filings that gather
  behind it go on after HOLD_UP_SECONDS, and a batch it is in is cancelled after
  PATIENCE_SECONDS, its other statements run again alone.

Only statements that return exactly one row, outside any transaction, are batched.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from typing import Any

from gateway.core.db.connection import fetch, in_transaction, pool
from gateway.core.log import get_logger

Row = dict[str, Any]
_log = get_logger("db")
# A bound on a batch's transaction: the locks it holds and the answers that wait for it.
MAX_BATCH = 32
# A batch takes milliseconds. The filings that gather behind one still at PostgreSQL after
# this long (a statement waiting on a row held elsewhere) go on without it.
HOLD_UP_SECONDS = 0.25
# A batch still running after this long is cancelled, and its statements run alone: only the
# one waiting on a lock keeps waiting, not the others of its batch.
PATIENCE_SECONDS = 2.0


class _Waiting:
    __slots__ = ("answer", "args")

    def __init__(self, args: tuple[Any, ...], answer: asyncio.Future[Row]) -> None:
        self.args = args
        self.answer = answer


class _Batcher:
    """One event loop's batches: per statement text, those waiting and whether one runs."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[_Waiting]] = {}
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done

    def submit(self, sql: str, args: tuple[Any, ...]) -> asyncio.Future[Row]:
        loop = asyncio.get_running_loop()
        waiting = _Waiting(args, loop.create_future())
        self._waiting.setdefault(sql, []).append(waiting)
        if sql not in self._running:
            self._running.add(sql)
            # An empty context: the batch is no request's (its logs, its transaction).
            task = loop.create_task(self._drain(sql), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return waiting.answer

    async def _drain(self, sql: str) -> None:
        """Runs what waits for `sql`, batch after batch, until nothing does. The next batch
        gathers while one is at PostgreSQL, but does not wait past HOLD_UP_SECONDS for one
        held up by a lock: that one finishes on its own."""
        try:
            while queue := self._waiting.pop(sql, None):
                batch = [waiting for waiting in queue if not waiting.answer.cancelled()]
                if not batch:  # every caller gave up while it waited
                    continue
                if len(batch) > MAX_BATCH:
                    self._waiting.setdefault(sql, [])[:0] = batch[MAX_BATCH:]
                    batch = batch[:MAX_BATCH]
                running = asyncio.get_running_loop().create_task(_settled(sql, batch))
                self._tasks.add(running)
                running.add_done_callback(self._tasks.discard)
                await asyncio.wait({running}, timeout=HOLD_UP_SECONDS)
        except asyncio.CancelledError:  # the loop is closing: so are its callers
            for waiting in self._waiting.pop(sql, []):
                waiting.answer.cancel()
            raise
        finally:
            self._running.discard(sql)


async def _settled(sql: str, batch: list[_Waiting]) -> None:
    """`_run`, and every caller of the batch answered whatever happens."""
    try:
        await _run(sql, batch)
    except Exception as error:
        for waiting in batch:
            _settle(waiting.answer, error=error)
    except asyncio.CancelledError:
        for waiting in batch:
            waiting.answer.cancel()
        raise


async def _run(sql: str, batch: list[_Waiting]) -> None:
    if len(batch) > 1:
        try:
            async with pool().acquire() as connection:
                rows = await connection.fetchmany(
                    sql, [waiting.args for waiting in batch], timeout=PATIENCE_SECONDS
                )
        except Exception as error:  # each runs again alone and gets its own answer
            _log.debug("a batch was undone: its statements run again alone", error=repr(error))
        else:
            if len(rows) != len(batch):  # committed: say so rather than run anything again
                raise RuntimeError(f"a batch of {len(batch)} statements returned {len(rows)} rows")
            for waiting, row in zip(batch, rows, strict=True):
                _settle(waiting.answer, row=dict(row))
            return
    if len(batch) == 1:  # the common case without load: no task to gather it in
        await _alone(sql, batch[0])
        return
    await asyncio.gather(*(_alone(sql, waiting) for waiting in batch))


async def _alone(sql: str, waiting: _Waiting) -> None:
    try:
        rows = await fetch(sql, *waiting.args)
        if len(rows) != 1:
            raise RuntimeError(f"a batched statement returned {len(rows)} rows, not one")
    except Exception as error:
        _settle(waiting.answer, error=error)
    else:
        _settle(waiting.answer, row=rows[0])


def _settle(
    answer: asyncio.Future[Row], *, row: Row | None = None, error: BaseException | None = None
) -> None:
    if answer.done():  # its caller was cancelled meanwhile
        return
    if error is not None:
        answer.set_exception(error)
    else:
        assert row is not None
        answer.set_result(row)


# Tests run several event loops one after another: each has its own batches.
_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher] = (
    weakref.WeakKeyDictionary()
)


async def fetch_one(sql: str, *args: Any) -> Row:
    """The one row `sql` returns, run together with the same statement's other callers when
    they come while one runs; alone, as `fetch` runs it, inside a transaction."""
    if in_transaction():
        rows = await fetch(sql, *args)
        if len(rows) != 1:
            raise RuntimeError(f"a batched statement returned {len(rows)} rows, not one")
        return rows[0]
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher()
    return await batcher.submit(sql, args)
