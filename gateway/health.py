"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from msgspec import Struct

from gateway.core.db.connection import fetch
from gateway.core.db.outage import RETRY_AFTER_SECONDS
from gateway.core.db.schema_check import schema_problem
from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.auth import PUBLIC_OPT
from gateway.edge.openapi import problems
from gateway.fraud.wiring import blocklist_service
from gateway.job_worker import STALE_AFTER_SECONDS, SupervisedWorker

# One round trip: the database answers, takes writes, and Procrastinate's heartbeats (one row
# per worker).
_HEARTBEATS = """
SELECT extract(epoch FROM now() - max(last_heartbeat))::float8 AS newest,
       extract(epoch FROM now() - max(last_heartbeat) FILTER (WHERE id = $1))::float8 AS ours,
       current_setting('transaction_read_only') = 'on' AS read_only
  FROM procrastinate_workers
"""


class HealthStatus(Struct, omit_defaults=True):
    status: str
    # Seconds since the freshest job worker's heartbeat, wherever it runs; absent when no
    # worker is registered.
    worker_heartbeat_age_seconds: float | None = None
    warning: str | None = None


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    opt = {PUBLIC_OPT: True}

    @get("/live", operation_id="getLiveness", summary="The process answers")
    async def live(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get(
        "/ready",
        operation_id="getReadiness",
        summary="The database answers with the current schema, this process's blocklist "
        "listens for changes, and its job worker runs (when it has one)",
        responses=problems(503),
    )
    async def ready(self, request: Request[Any, Any, Any]) -> HealthStatus:
        in_process: SupervisedWorker | None = request.app.state.get("job_worker")
        ours = in_process.worker_id if in_process is not None else None
        try:
            schema = await schema_problem()  # round trips only until it is once up to date
            if schema is not None:
                raise _unavailable(schema)
            rows = await fetch(_HEARTBEATS, ours or 0)
        except BillingError:
            raise
        except Exception:
            raise _unavailable(
                "The database does not answer; the gateway cannot serve requests."
            ) from None
        if rows[0]["read_only"]:
            raise _unavailable(
                "The database takes no writes (a standby, or read-only by its settings): every "
                "request writes, so none can be served until it does."
            )
        if not blocklist_service().mirror.listening:
            raise _unavailable(
                "This process's fraud blocklist is not listening for changes (starting, or "
                "its connection was lost and is being reopened): screening could miss a block."
            )
        newest, own_age = rows[0]["newest"], rows[0]["ours"]
        if in_process is not None and (own_age is None or own_age > STALE_AFTER_SECONDS):
            raise _unavailable(
                f"The job worker of this process is {in_process.state.value}: webhooks, audit "
                "sealing and imports wait until it runs again (it reconnects by itself)."
            )
        if newest is not None and newest <= STALE_AFTER_SECONDS:
            return HealthStatus(status="ready", worker_heartbeat_age_seconds=round(newest, 1))
        # Still ready to serve the API; jobs wait for a worker (which may run elsewhere).
        return HealthStatus(
            status="ready",
            worker_heartbeat_age_seconds=round(newest, 1) if newest is not None else None,
            warning=f"No job worker has sent a heartbeat for {STALE_AFTER_SECONDS:.0f} s: "
            "webhooks, audit sealing and imports wait; start `billing-gateway worker`.",
        )


def _unavailable(detail: str) -> BillingError:
    return BillingError(
        ErrorCode.SERVICE_UNAVAILABLE, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )
