"""Background jobs go through Procrastinate's PostgreSQL queue and a real worker."""

from __future__ import annotations

import httpx
from procrastinate import App

from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import iban_change


async def _run_worker_until_idle(job_app: App) -> None:
    """Run the worker until no job is left to do.

    A worker told not to wait stops the moment it finds no job, while its periodic
    deferrer may still be deferring this minute's jobs one after another: the one it
    defers last can land just after the worker stopped. Running again picks it up
    (the deferrer does not defer a minute's job twice).
    """
    for _ in range(10):
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
        if not await fetch("SELECT 1 FROM procrastinate_jobs WHERE status = 'todo'"):
            return


async def test_a_deferred_purge_runs_in_the_worker(http: httpx.AsyncClient, api_key: str) -> None:
    from gateway.core.jobs import job_app
    from gateway.idempotency.jobs import purge_expired_keys
    from gateway.notifications.outbox import kicks_sent

    await http.post("/v1/change-requests", json=iban_change(), headers=auth(api_key, "ancient"))
    await kicks_sent()  # the filing's kick is queued before the worker runs, not while it ends
    await fetch("UPDATE idempotency_keys SET created_at = now() - interval '100 hours'")
    async with job_app.open_async():
        await purge_expired_keys.defer_async(timestamp=0)
        await _run_worker_until_idle(job_app)
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
