"""The job worker outlives a database outage: it stops as Procrastinate's worker does when a
query fails, waits until the queue answers again and runs jobs as before, by itself."""

from __future__ import annotations

import asyncio
from typing import Any

import procrastinate
import psycopg
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
