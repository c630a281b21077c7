"""`after_commit`: a callback runs once the outermost transaction commits, whichever way the
transaction was entered; never after a rollback; a failing one is logged, not raised."""

from __future__ import annotations

import pytest

from gateway.core.db.connection import after_commit, engine, fetch, transaction


class Calls:
    def __init__(self) -> None:
        self.count = 0
        self.seen_committed: list[bool] = []

    async def __call__(self) -> None:
        self.count += 1
        # The callback sees what its transaction wrote: it has committed.
        rows = await fetch("SELECT count(*) AS n FROM notification_events")
        self.seen_committed.append(rows[0]["n"] == 1)


_INSERT = (
    "INSERT INTO notification_events (id, type, subject_type, subject_id, sequence, payload)"
    " VALUES (gen_random_uuid(), 'change_request.filed', 'change_request', 'x', 1, '{}')"
)


async def test_runs_once_after_the_outermost_commit() -> None:
    calls = Calls()
    async with transaction():
        async with engine().transaction():  # a nested one joins the outer transaction
            await fetch(_INSERT)
            await after_commit(calls)
            await after_commit(calls.__call__)
        assert calls.count == 0  # the inner block's end is no commit
    assert calls.count == 2
    assert calls.seen_committed == [True, True]


async def test_runs_after_a_piccolo_transaction_entered_directly() -> None:
    calls = Calls()
    async with engine().transaction():
        await fetch(_INSERT)
        await after_commit(calls)
        assert calls.count == 0
    assert calls.seen_committed == [True]


async def test_never_runs_after_a_rollback() -> None:
    calls = Calls()

    async def failing_change() -> None:
        async with transaction():
            await fetch(_INSERT)
            await after_commit(calls)
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert calls.count == 0
    assert await fetch("SELECT id FROM notification_events") == []
    async with transaction():  # and not after the next transaction either
        pass
    assert calls.count == 0


async def test_runs_at_once_without_a_transaction() -> None:
    calls = Calls()
    await after_commit(calls)
    assert calls.count == 1


async def test_a_failing_callback_is_not_raised_and_the_others_still_run() -> None:
    calls = Calls()

    async def broken() -> None:
        raise ValueError("the queue is down")

    async with transaction():
        await fetch(_INSERT)
        await after_commit(broken)
        await after_commit(calls)
    assert calls.count == 1
