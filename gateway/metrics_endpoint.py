"""`/metrics`: every process's samples (multiprocess mode), then the business as the database
shows it, read at scrape time: the same answer from any process, so never summed across them.
A probe that fails (its query timed out, the sink did not answer) is left out and counted in
`billing_gateway_business_probe_failed`, and the others are still shown.

/metrics needs no key, so a scrape must not be able to starve the request pool: the probes run
one after another on one pooled connection, and the result is kept for `CACHE_SECONDS` in this
process, scrapes arriving meanwhile (or while it is read) sharing that one reading."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import get
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from audit import queries as audit_queries
from audit.sinks import CheckpointSink, configured_sink, pending_checkpoints
from gateway.change_requests import queries as change_request_queries
from gateway.cheques import queries as cheque_queries
from gateway.core.db.connection import engine
from gateway.core.log import get_logger
from gateway.corrections import queries as correction_queries
from gateway.metrics import multiprocess
from gateway.notifications import queries as notification_queries
from gateway.webhooks import queries as inbox_queries

TIMEOUT_SECONDS = 2.0  # each probe's
CACHE_SECONDS = 5.0
_log = get_logger("metrics")

# The back office's queues, as its screens define them (the views of the migrations).
BACK_OFFICE_QUEUES = "UNION ALL".join(
    (
        change_request_queries.QUEUES,
        correction_queries.APPROVAL_QUEUE,
        cheque_queries.OPEN_BATCHES_QUEUE,
    )
)
_JOBS = """
SELECT queue_name, status::text AS status, count(*) AS depth,
       max(now() - scheduled_at) FILTER (WHERE status = 'todo') AS oldest
  FROM procrastinate_jobs WHERE status IN ('todo', 'doing') GROUP BY 1, 2
"""
_JOB_FAILURES = """
SELECT task_name, count(*) AS count FROM procrastinate_jobs WHERE status = 'failed' GROUP BY 1
"""


def _seconds(interval: Any) -> float:
    return interval.total_seconds() if interval is not None else 0.0


def _queues(rows: list[dict[str, Any]]) -> Iterable[Metric]:
    depth = GaugeMetricFamily(
        "billing_gateway_queue_depth",
        "Items waiting in a back-office queue (triage, specialists, review, plan_approval, "
        "apply_failed, corrections_approval, cheque_batches_open).",
        labels=["queue"],
    )
    age = GaugeMetricFamily(
        "billing_gateway_queue_oldest_age_seconds",
        "Age of the oldest item in a back-office queue; 0 when it is empty.",
        labels=["queue"],
    )
    for row in rows:
        depth.add_metric([row["queue"]], row["depth"])
        age.add_metric([row["queue"]], _seconds(row["oldest"]))
    return depth, age


def _jobs(rows: list[dict[str, Any]]) -> Iterable[Metric]:
    depth = GaugeMetricFamily(
        "billing_gateway_job_queue_depth",
        "Procrastinate jobs waiting (todo) or running (doing), by job queue.",
        labels=["queue", "status"],
    )
    age = GaugeMetricFamily(
        "billing_gateway_job_queue_oldest_age_seconds",
        "Age of the oldest job waiting to run in a job queue, since it was due.",
        labels=["queue"],
    )
    for row in rows:
        depth.add_metric([row["queue_name"], row["status"]], row["depth"])
        if row["status"] == "todo":
            age.add_metric([row["queue_name"]], max(0.0, _seconds(row["oldest"])))
    return depth, age


def _inbox(rows: list[dict[str, Any]]) -> Iterable[Metric]:
    depth = GaugeMetricFamily(
        "billing_gateway_webhook_inbox_depth",
        "Provider events received and not processed yet.",
        labels=["provider"],
    )
    lag = GaugeMetricFamily(
        "billing_gateway_webhook_inbox_lag_seconds",
        "Age of the oldest provider event not processed yet; absent when none waits.",
        labels=["provider"],
    )
    for row in rows:
        depth.add_metric([row["provider"]], row["depth"])
        lag.add_metric([row["provider"]], _seconds(row["oldest"]))
    return depth, lag


def _seal(rows: list[dict[str, Any]]) -> Iterable[Metric]:
    row = rows[0]
    yield GaugeMetricFamily(
        "billing_gateway_audit_unsealed_entries",
        "Audit entries written and not in the hash chain yet.",
        value=row["depth"],
    )
    yield GaugeMetricFamily(
        "billing_gateway_audit_seal_lag_seconds",
        "Age of the oldest audit entry not sealed into the hash chain; 0 when all are.",
        value=_seconds(row["oldest"]),
    )


def _deliveries(rows: list[dict[str, Any]]) -> Iterable[Metric]:
    counts = {row["state"]: row["count"] for row in rows}
    family = GaugeMetricFamily(
        "billing_gateway_notification_deliveries_failing",
        "Outgoing notification deliveries that failed: failing (still retried) or failed "
        "(retries given up; a resend is needed).",
        labels=["state"],
    )
    for state in ("failing", "failed"):
        family.add_metric([state], counts.get(state, 0))
    yield family


def _job_failures(rows: list[dict[str, Any]]) -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "billing_gateway_job_failures",
        "Jobs that failed for good and are kept in the job table, by task.",
        labels=["task"],
    )
    for row in rows:
        family.add_metric([row["task_name"]], row["count"])
    yield family


@dataclass(frozen=True)
class Probe:
    name: str
    sql: str
    families: Callable[[list[dict[str, Any]]], Iterable[Metric]]


PROBES = (
    Probe("queues", BACK_OFFICE_QUEUES, _queues),
    Probe("job_queues", _JOBS, _jobs),
    Probe("webhook_inbox", inbox_queries.DEPTH, _inbox),
    Probe("audit_seal", audit_queries.SEAL_LAG, _seal),
    Probe("notification_deliveries", notification_queries.DELIVERY_HEALTH, _deliveries),
    Probe("job_failures", _JOB_FAILURES, _job_failures),
)


class _Collected(Collector):
    """Families already read: prometheus_client collects synchronously."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _checkpoints_not_copied(sink: CheckpointSink, pending: int) -> Metric:
    family = GaugeMetricFamily(
        "billing_gateway_audit_checkpoints_not_copied",
        "Signed audit checkpoints stored and not yet taken by the configured off-host sink.",
        labels=["sink"],
    )
    family.add_metric([sink.name], pending)
    return family


async def _run(connection: Any, probe: Probe) -> list[Metric] | None:
    try:  # asyncpg cancels a query that times out; the connection stays usable
        rows = await connection.fetch(probe.sql, timeout=TIMEOUT_SECONDS)
    except Exception as error:  # one probe down leaves the others
        _log.warning("metrics probe failed", probe=probe.name, error=type(error).__name__)
        return None
    return list(probe.families([dict(row) for row in rows]))


async def _checkpoints() -> list[Metric] | None:
    """After the probes, their connection back in the pool: a directory sink reads a file."""
    sink = configured_sink()
    try:
        pending = await asyncio.wait_for(pending_checkpoints(sink), TIMEOUT_SECONDS)
    except Exception as error:
        _log.warning("metrics probe failed", probe="audit_checkpoints", error=type(error).__name__)
        return None
    return [_checkpoints_not_copied(sink, pending)]


async def _read_business() -> bytes:
    """The probes' families in Prometheus text, read now."""
    pool = engine().pool
    assert pool is not None, "start_pool() first"
    answers: dict[str, list[Metric] | None] = dict.fromkeys(probe.name for probe in PROBES)
    try:
        async with pool.acquire(timeout=TIMEOUT_SECONDS) as connection:
            for probe in PROBES:
                answers[probe.name] = await _run(connection, probe)
    except Exception as error:  # no connection to be had: every probe failed
        _log.warning("metrics probes found no connection", error=type(error).__name__)
    answers["audit_checkpoints"] = await _checkpoints()
    failed = GaugeMetricFamily(
        "billing_gateway_business_probe_failed",
        "1 when the database (or the checkpoint sink) did not answer this probe at this read.",
        labels=["probe"],
    )
    families: list[Metric] = [failed]
    for name, answer in answers.items():
        failed.add_metric([name], 1 if answer is None else 0)
        families.extend(answer or [])
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected(families))
    return generate_latest(registry)


# (when it started, the reading) of this process's latest business reading
_latest: tuple[float, asyncio.Task[bytes]] | None = None


async def business_metrics() -> bytes:
    """The business in Prometheus text, read at most once per `CACHE_SECONDS`."""
    global _latest
    if _latest is None or time.monotonic() - _latest[0] >= CACHE_SECONDS:
        _latest = (time.monotonic(), asyncio.create_task(_read_business()))
    # shielded: a scraper that hangs up does not cancel the reading others wait for
    return await asyncio.shield(_latest[1])


def forget_business_metrics() -> None:
    """The next scrape reads afresh (tests that change the data between two scrapes)."""
    global _latest
    _latest = None


class MetricsController(PrometheusController):
    """Prometheus text at /metrics; kept out of the API's OpenAPI document."""

    include_in_schema = False

    @get()
    async def get(self) -> Response[bytes]:
        body = generate_latest(multiprocess.registry()) + await business_metrics()
        return Response(body, status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
