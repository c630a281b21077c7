"""Bring a database to the current schema: Piccolo migrations, then Procrastinate's
(`gateway.core.db.job_schema`), then the grants.

With `BG_MIGRATION_DATABASE_URL` (the sandbox sets it) they run as that owner role, and the
application's role (DATABASE_URL's) then gets its grants, no more (`gateway.core.db.roles`).

One `migrate` at a time: each holds a session advisory lock on a connection of its own for the
whole run, so a second one (another replica's, or a compose restart's) waits for the first, then
finds nothing left to do."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards

from gateway.core.db.connection import engine, fetch_value
from gateway.core.db.job_schema import update_job_schema
from gateway.core.db.roles import apply_grants, migration_url
from gateway.core.db.schema_check import shipped_migrations

_MIGRATE_LOCK = "SELECT pg_advisory_lock(hashtextextended('billing-gateway.migrate', 0))"
_APPLIED = "SELECT app_name, name FROM migration"
_RECORD = "INSERT INTO migration (app_name, name) VALUES ($1, $2)"


async def migrate() -> None:
    owner_url = migration_url()
    if not owner_url:  # one role does both: `audit verify` reports that it can lift the guards
        async with migration_lock(os.environ["DATABASE_URL"]) as connection:
            await _migrate(connection)
        return
    app_role = await fetch_value("SELECT current_user")
    async with migration_lock(owner_url) as connection, connected_as(owner_url):
        await _migrate(connection)
        if await fetch_value("SELECT current_user") != app_role:
            await apply_grants(str(app_role))


async def _migrate(connection: Any) -> None:
    await record_squashed(connection)
    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    await update_job_schema(connection)


async def record_squashed(connection: Any) -> None:
    if not await connection.fetchval("SELECT to_regclass('migration') IS NOT NULL"):
        return  # a fresh database: every migration runs
    applied = {(row["app_name"], row["name"]) for row in await connection.fetch(_APPLIED)}
    for (app, migration_id), module in shipped_migrations().items():
        replaces = {(app, old) for old in getattr(module, "REPLACES", ())}
        if (app, migration_id) in applied or not replaces & applied:
            continue
        if not replaces <= applied:
            raise RuntimeError(
                f"migration {migration_id} replaces {len(replaces)} older ones, of which this"
                f" database has {len(replaces & applied)}: migrate it with the release before"
                " the squash first"
            )
        await connection.execute(_RECORD, app, migration_id)


@contextlib.asynccontextmanager
async def migration_lock(url: str) -> AsyncIterator[Any]:
    """A connection of its own holding the migration lock while the block runs (waiting for
    it when another `migrate` holds it); closing the connection releases it, even on a crash."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(_MIGRATE_LOCK)
        yield connection
    finally:
        await connection.close()


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
