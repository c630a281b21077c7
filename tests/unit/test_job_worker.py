"""The job worker outlives a database outage: it stops as Procrastinate's worker does when a
query fails, waits until the queue answers again and runs jobs as before, by itself."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import procrastinate
import psycopg
from procrastinate import utils
from procrastinate.testing import InMemoryConnector

from gateway.job_worker import SupervisedWorker, WorkerState


class FlakyConnector(InMemoryConnector):
    """In memory; while `down`, every query fails as psycopg does when PostgreSQL is gone."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def generic_execute(self, query: Any, suffix: str, **arguments: Any) -> Any:
        if self.down:
            raise procrastinate.exceptions.ConnectorException() from psycopg.OperationalError(
                "connection refused"
            )
        return super().generic_execute(query, suffix, **arguments)


async def _until(condition: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


async def test_the_worker_runs_jobs_again_after_the_database_comes_back() -> None:
    connector = FlakyConnector()
    app = procrastinate.App(connector=connector)
    done: list[int] = []

    @app.task(name="remember")
    async def remember(n: int) -> None:
        done.append(n)

    await app.open_async()
    supervised = SupervisedWorker(app)
    running = asyncio.create_task(supervised.run())
    try:
        await remember.defer_async(n=1)
        await _until(lambda: done == [1])
        assert supervised.state is WorkerState.RUNNING

        connector.down = True
        await _until(lambda: supervised.state is WorkerState.RECONNECTING)
        connector.down = False
        await _until(lambda: supervised.state is WorkerState.RUNNING)
        await remember.defer_async(n=2)
        await _until(lambda: done == [1, 2])
        assert supervised.restarts == 1
    finally:
        supervised.stop()
        await asyncio.wait_for(running, 10)
        await app.close_async()
    assert supervised.state is WorkerState.STOPPED


async def test_after_an_outage_a_supervisor_runs_again_only_the_jobs_its_own_worker_left() -> None:
    """Every worker's heartbeat is old after a long outage, yet another process's worker may
    still be running its job (a Radar sync talks to Stripe, not to the database): that job must
    not run a second time here."""
    connector = FlakyConnector()
    app = procrastinate.App(connector=connector)
    runs: list[str] = []
    database_back = asyncio.Event()

    @app.task(name="sync")
    async def sync(name: str) -> None:
        runs.append(name)
        if runs.count(name) == 1 and name == "ours":
            await database_back.wait()  # cut off: its end cannot be recorded

    await app.open_async()
    theirs = await sync.defer_async(name="theirs")
    connector.workers[99] = utils.utcnow() - datetime.timedelta(seconds=60)  # silent 60 s
    connector.jobs[theirs].update(status="doing", worker_id=99)  # and still running it
    supervised = SupervisedWorker(app)
    running = asyncio.create_task(supervised.run())
    try:
        await sync.defer_async(name="ours")
        await _until(lambda: "ours" in runs)
        connector.down = True
        database_back.set()
        await _until(lambda: supervised.state is WorkerState.RECONNECTING)
        connector.down = False
        await _until(lambda: runs.count("ours") == 2)  # our interrupted job, queued again
        await asyncio.sleep(0.5)
        assert "theirs" not in runs
        assert connector.jobs[theirs]["status"] == "doing"
        assert connector.jobs[theirs]["worker_id"] == 99
    finally:
        supervised.stop()
        await asyncio.wait_for(running, 10)
        await app.close_async()
