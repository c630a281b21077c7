"""Procrastinate's own tables, kept up to date: its full schema on a fresh database, then each of
its migration files (`procrastinate/sql/migrations/*.sql`) that this database has not had yet,
in order, one transaction each, recorded in `procrastinate_applied_migrations`.

Procrastinate 3 splits a release's migrations into pre (`_01_pre_...`, safe before the new code
starts) and post (`_50_post_...`, safe once no old code runs). Both run here: `migrate` runs
while the gateway and its workers are stopped (the compose stack's one-off `migrate`, or
`make run` before it serves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from procrastinate.schema import SchemaManager

RECORD_TABLE = "procrastinate_applied_migrations"

_CREATE_RECORD_TABLE = f"""
CREATE TABLE {RECORD_TABLE} (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
_APPLIED = "SELECT name FROM procrastinate_applied_migrations"
_RECORD = f"INSERT INTO {RECORD_TABLE} (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING"


def migration_files() -> list[Path]:
    """Procrastinate's migrations in the order they apply (their names sort by version)."""
    return sorted(Path(SchemaManager.get_migrations_path()).glob("*.sql"))


async def update_job_schema(connection: Any) -> list[str]:
    """Bring Procrastinate's schema up to date on `connection` (asyncpg, the schema owner's);
    the names of the migration files applied."""
    files = migration_files()
    every_name = [file.name for file in files]
    has_record = await _exists(connection, RECORD_TABLE)
    if not await _exists(connection, "procrastinate_jobs"):
        # A fresh database: the schema already contains every migration shipped with it.
        async with connection.transaction():
            await connection.execute(SchemaManager.get_schema())
            if not has_record:
                await connection.execute(_CREATE_RECORD_TABLE)
            await connection.execute(_RECORD, every_name)
        return []
    if not has_record:
        # Job tables but no record: made by the code before this module, which applied this
        # Procrastinate version's full schema once and nothing since, so every file is in it.
        async with connection.transaction():
            await connection.execute(_CREATE_RECORD_TABLE)
            await connection.execute(_RECORD, every_name)
        return []
    applied = {row["name"] for row in await connection.fetch(_APPLIED)}
    missing = [file for file in files if file.name not in applied]
    for file in missing:
        async with connection.transaction():
            await connection.execute(file.read_text(encoding="utf-8"))
            await connection.execute(_RECORD, [file.name])
    return [file.name for file in missing]


async def _exists(connection: Any, table: str) -> bool:
    return bool(await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table))
