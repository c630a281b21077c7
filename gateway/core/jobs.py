"""Background jobs on Procrastinate: PostgreSQL-backed, so more machines need nothing new."""

from __future__ import annotations

import os
from typing import Any

import procrastinate
from psycopg_pool import AsyncConnectionPool


def _pool_from_environment(**options: Any) -> AsyncConnectionPool:
    # The URL is only known once gateway.core.db.server.ensure_database() has run.
    return AsyncConnectionPool(conninfo=os.environ["DATABASE_URL"], **options)


job_app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(
        pool_factory=_pool_from_environment,
        max_size=4,
        # While PostgreSQL is down: a deferral (webhooks, imports) gives up after 5 s, not 30,
        # and the pool gives up a connection after 2 s of tries instead of backing off for up
        # to 5 minutes, so that it connects again at once when asked after the database is back.
        timeout=5.0,
        reconnect_timeout=2.0,
    ),
    import_paths=[
        "gateway.idempotency.jobs",
        "gateway.webhooks.jobs",
        "audit.jobs",
        "gateway.fraud.jobs",
        "gateway.fraud.radar_jobs",
        "gateway.fulfilment.check_jobs",
        "gateway.fulfilment.jobs",
        "gateway.corrections.jobs",
        "gateway.change_requests.lifecycle_jobs",
        "gateway.notifications.jobs",
        "gateway.cheques.jobs",
        # Not jobs: who filed work for a customer, which the notifications' fan-out asks.
        "gateway.change_requests.notification_events",
        "gateway.corrections.notification_events",
    ],
)
