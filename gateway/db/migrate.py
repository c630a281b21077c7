"""Bring a database to the current schema: Piccolo migrations, then Procrastinate's tables.

With `BG_MIGRATION_DATABASE_URL` (the sandbox sets it) they run as that owner role, and the
application's role (DATABASE_URL's) then gets its grants, no more (`gateway.db.roles`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import procrastinate
from piccolo.apps.migrations.commands.forwards import run_forwards
from procrastinate.schema import SchemaManager

from gateway.db.connection import engine, fetch_value
from gateway.db.roles import apply_grants, migration_url


async def migrate() -> None:
    owner_url = migration_url()
    if not owner_url:  # one role does both: `audit verify` reports that it can lift the guards
        await _migrate(os.environ["DATABASE_URL"])
        return
    app_role = await fetch_value("SELECT current_user")
    async with connected_as(owner_url):
        await _migrate(owner_url)
        if await fetch_value("SELECT current_user") != app_role:
            await apply_grants(str(app_role))


async def _migrate(url: str) -> None:
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    has_job_tables = await fetch_value("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
    if not has_job_tables:
        connector = procrastinate.PsycopgConnector(conninfo=url)
        await connector.open_async()
        try:
            await SchemaManager(connector).apply_schema_async()
        finally:
            await connector.close_async()


@contextlib.asynccontextmanager
async def connected_as(url: str) -> AsyncIterator[None]:
    """Every statement on the engine, meanwhile, as `url`'s role. Piccolo's migrations find the
    one engine themselves, so it is that engine that changes role, not a second one; nothing
    else runs during a migration."""
    database = engine()
    config, pool = database.config, database.pool
    database.config, database.pool = {**config, "dsn": url}, None
    try:
        await database.start_connection_pool(min_size=1, max_size=2)
        yield
    finally:
        if database.pool is not None:
            await database.close_connection_pool()
        database.config, database.pool = config, pool
