"""Fraud-stop jobs: bulk imports, and a minute sweep for any import whose job never ran."""

from __future__ import annotations

from uuid import UUID

from gateway.core.jobs import job_app


@job_app.task(name="fraud.import_blocklist", retry=3)
async def run_import(import_id: str) -> int:
    from gateway.fraud.wiring import blocklist_imports

    return await blocklist_imports().run(UUID(import_id))


@job_app.periodic(cron="* * * * *")
@job_app.task(name="fraud.import_sweep", queueing_lock="fraud.import_sweep")
async def sweep_imports(timestamp: int) -> int:
    from gateway.fraud.wiring import blocklist_imports

    imports = blocklist_imports()
    for import_id in await imports.unfinished():
        await imports.run(import_id)
    return len(await imports.unfinished())
