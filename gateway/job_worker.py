"""Procrastinate's worker, kept running through database outages.

Why it stops: a worker runs side tasks (heartbeat, periodic deferrer, LISTEN, abort polling)
beside its fetch loop, and stops for good as soon as one of them or a fetch raises; a database
that goes away does exactly that (ConnectorException), and its shutdown then fails too (it cannot
unregister). `run_worker_async` returns or raises and nothing starts it again: the periodic jobs
(audit sealing, checkpoints, purges, Radar sync), webhook processing and imports stop with it.
Procrastinate leaves restarting to a process supervisor (procrastinate#1116); `make run` has
none, and a supervisor restarting a whole process is slower than this.

So this supervisor waits until the job queue answers again (backoff with jitter), tidies up
after the worker that stopped (its interrupted jobs go back to the queue; its registration goes)
and starts a new one; `state` and Procrastinate's own heartbeat row (`procrastinate_workers`,
one per worker) are what readiness reads.

Only its own worker's jobs: after an outage every worker's heartbeat is old, yet another
process's stopping worker may still be running a job (a Radar sync talks to Stripe, not to the
database), and queueing that job again would run it twice. Jobs of workers that are really gone
(a process killed) go back to the queue once their worker has been silent for
`GONE_AFTER_SECONDS`, far longer than a job keeps running after its worker's last heartbeat;
Procrastinate prunes registrations with that same threshold, so a restarting worker never
unregisters, and thereby orphans, a live process's worker.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable

import procrastinate
from procrastinate.jobs import Job
from procrastinate.worker import Worker
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from gateway.core.db.outage import is_database_outage
from gateway.core.log import get_logger

HEARTBEAT_SECONDS = 5.0  # Procrastinate's heartbeat interval for our workers
# Jobs at once per worker: Apply runs spend their time waiting for providers, and many applies
# at once must keep each provider busy up to its rate limit (adapters/pacing.py). Tasks that
# must not overlap say so with a Procrastinate lock, as they must across worker processes.
CONCURRENCY = 8
STALE_AFTER_SECONDS = 30.0  # a heartbeat older than this: the worker is not running now
GONE_AFTER_SECONDS = 15 * 60.0  # silent this long, even through an outage: its process is gone
_SHORTEST_RUN_SECONDS = 1.0
_log = get_logger("gateway.jobs")
# Run each time a worker starts (after the interrupted jobs went back to the queue): work that
# needs no waiting for a tick, such as resuming fulfilment runs whose process died.
_START_HOOKS: list[Callable[[], Awaitable[None]]] = []


def on_worker_start(hook: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """Registers `hook` (from a module in the job app's import paths)."""
    _START_HOOKS.append(hook)
    return hook


class WorkerState(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


class SupervisedWorker:
    def __init__(self, app: procrastinate.App) -> None:
        self._app = app
        self._worker: Worker | None = None  # the worker running now, if any
        self._left_behind: int | None = None  # a stopped worker's registration, if it stayed
        self._stopping = self._stopped = False
        self.restarts = 0

    @property
    def worker_id(self) -> int | None:
        """The running worker's row in `procrastinate_workers` (its heartbeat), once it has
        registered."""
        return self._worker.worker_id if self._worker is not None else None

    @property
    def state(self) -> WorkerState:
        if self._stopped:
            return WorkerState.STOPPED
        if self.worker_id is not None:
            return WorkerState.RUNNING
        return WorkerState.RECONNECTING if self.restarts else WorkerState.STARTING

    def stop(self) -> None:
        """Stop for good, gracefully (running jobs finish)."""
        self._stopping = True
        if self._worker is not None:
            self._worker.stop()  # type: ignore[no-untyped-call]

    async def run(self) -> None:
        """Until stopped or cancelled."""
        self._app.perform_import_paths()  # type: ignore[no-untyped-call]
        try:
            while not self._stopping:
                await self._wait_for_the_queue()
                if self._stopping:
                    break
                await self._requeue_interrupted_jobs()
                await self._run_start_hooks()
                await self._run_one_worker()
        finally:
            self._stopped = True

    async def _run_one_worker(self) -> None:
        worker = Worker(
            app=self._app,
            install_signal_handlers=False,  # the owner stops it (`stop()` or cancelling)
            concurrency=CONCURRENCY,
            update_heartbeat_interval=HEARTBEAT_SECONDS,
            stalled_worker_timeout=GONE_AFTER_SECONDS,  # pruned at start-up when older
        )
        self._worker = worker
        _log.info("job worker starting", restarts=self.restarts)
        started = time.monotonic()
        try:
            await worker.run()  # type: ignore[no-untyped-call]
            if self._stopping:
                return
            _log.warning("job worker stopped by itself; starting it again")
        except Exception as error:
            level = _log.warning if is_database_outage(error) else _log.exception
            level("job worker stopped; starting it again once the queue answers", error=repr(error))
        finally:
            self._worker = None
        self.restarts += 1
        self._left_behind = worker.worker_id  # None when its own shutdown unregistered it
        if time.monotonic() - started < _SHORTEST_RUN_SECONDS:  # failing at once: not too often
            await asyncio.sleep(_SHORTEST_RUN_SECONDS)

    async def _wait_for_the_queue(self) -> None:
        """Until PostgreSQL answers through the job queue's pool. A fresh backoff for each
        outage, so that the first tries come quickly."""
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            retry=retry_if_exception(is_database_outage),
            stop=lambda _attempt: self._stopping,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._app.check_connection_async()
        except Exception:
            if not self._stopping:
                raise

    async def _requeue_interrupted_jobs(self) -> None:
        """What Procrastinate's shutdown could not do while the database was gone: put the jobs
        the stopped worker was running back in the queue (before unregistering it, which would
        make them anonymous), unregister it; and queue again the jobs of workers gone for good.
        Best effort: a failure here must not keep the worker from starting."""
        manager = self._app.job_manager
        try:
            if self._left_behind is not None:
                for job in await manager.list_jobs_async(
                    worker_id=self._left_behind, status="doing"
                ):
                    await self._queue_again(job)
                await manager.unregister_worker(self._left_behind)
                self._left_behind = None
            for job in await manager.get_stalled_jobs(seconds_since_heartbeat=GONE_AFTER_SECONDS):
                await self._queue_again(job)
        except Exception as error:
            _log.warning("interrupted jobs not queued again yet", error=repr(error))

    async def _run_start_hooks(self) -> None:
        for hook in _START_HOOKS:
            try:
                await hook()
            except Exception as error:  # best effort: the minute sweep does it later
                _log.warning("worker start hook failed", hook=hook.__name__, error=repr(error))

    async def _queue_again(self, job: Job) -> None:
        await self._app.job_manager.retry_job(job)
        _log.info("interrupted job queued again", job_id=job.id, task=job.task_name)
