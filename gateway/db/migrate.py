"""Bring a database to the current schema: Piccolo migrations, then Procrastinate's tables."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards

from gateway.db.connection import fetch_value
from gateway.jobs import job_app


async def migrate() -> None:
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    has_job_tables = await fetch_value("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
    if not has_job_tables:
        async with job_app.open_async():
            await job_app.schema_manager.apply_schema_async()
