"""Background jobs go through Procrastinate's PostgreSQL queue and a real worker."""

from __future__ import annotations

import httpx

from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import iban_change


async def test_a_deferred_purge_runs_in_the_worker(http: httpx.AsyncClient, api_key: str) -> None:
    from gateway.core.jobs import job_app
    from gateway.idempotency.jobs import purge_expired_keys
    from gateway.notifications.outbox import kicks_sent

    await http.post("/v1/change-requests", json=iban_change(), headers=auth(api_key, "ancient"))
    await kicks_sent()  # the filing's kick is queued before the worker runs, not while it ends
    await fetch("UPDATE idempotency_keys SET created_at = now() - interval '100 hours'")
    async with job_app.open_async():
        await purge_expired_keys.defer_async(timestamp=0)
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    assert await fetch("SELECT key FROM idempotency_keys") == []
    # the worker also defers the periodic jobs whose minute has come (the webhook sweep)
    jobs = await fetch("SELECT task_name, status FROM procrastinate_jobs")
    assert {"task_name": "idempotency.purge_expired", "status": "succeeded"} in jobs
    assert all(job["status"] == "succeeded" for job in jobs), jobs
    periodic = {
        "webhooks.sweep",
        "webhooks.zuora_history",
        "audit.seal_and_checkpoint",
        "fraud.import_sweep",
        "fraud.radar_sync",
        "fulfilment.sweep",
        "corrections.sweep",
        "cheques.sweep",
        "notifications.sweep",
        "notifications.purge",
        "change_requests.lifecycle",
    }
    # filing the request wrote its notification event, whose kick fans it out
    kicked = {"notifications.dispatch"}
    assert {job["task_name"] for job in jobs} <= {"idempotency.purge_expired", *kicked, *periodic}
