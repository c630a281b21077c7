"""Procrastinate's own tables, kept up to date: its full schema on a fresh database, then each of
its migration files (`procrastinate/sql/migrations/*.sql`) that this database has not had yet,
in order, one transaction each, recorded in `procrastinate_applied_migrations`.

Procrastinate 3 splits a release's migrations into pre (`_01_pre_...`, safe before the new code
starts) and post (`_50_post_...`, safe once no old code runs). Both run here: `migrate` runs
while the gateway and its workers are stopped (the compose stack's one-off `migrate`, or
`make run` before it serves).

A database whose job tables predate the record (the code before this module applied the full
schema of whichever Procrastinate was installed, and nothing after) has its starting point found
from the objects each release's migrations create (`_MARKERS`)."""

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


# Per Procrastinate 3 release (the file-name prefix), newest first: a query true once that
# release's migrations ran, on something they create that later ones keep. A release's `_50_post`
# file only drops what its `_01_pre` replaced, so it goes with its pre (a full schema has both).
# 03.03 recreates `procrastinate_fetch_job_v2` under the same signature: its body tells.
# A Procrastinate upgrade that ships a new release adds its row here (a unit test checks).
_MARKERS: dict[str, str] = {
    "03.04.00": """SELECT to_regprocedure('procrastinate_retry_job_v2(bigint,
                   timestamptz, integer, varchar, varchar)') IS NOT NULL""",
    "03.03.00": """SELECT EXISTS (SELECT FROM pg_proc WHERE proname = 'procrastinate_fetch_job_v2'
                   AND prosrc LIKE '%other_jobs.priority > jobs.priority%')""",
    "03.02.00": "SELECT to_regtype('procrastinate_job_to_defer_v1') IS NOT NULL",
    "03.01.00": "SELECT to_regclass('procrastinate_workers') IS NOT NULL",
    "03.00.00": """SELECT EXISTS (SELECT FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'procrastinate_jobs'
                   AND column_name = 'abort_requested')""",
}


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
        # Job tables but no record: made by the code before this module, from the full schema
        # of the Procrastinate then installed, maybe older than this one.
        release = await _schema_release(connection)
        async with connection.transaction():
            await connection.execute(_CREATE_RECORD_TABLE)
            await connection.execute(
                _RECORD, [name for name in every_name if name[: len(release)] <= release]
            )
    applied = {row["name"] for row in await connection.fetch(_APPLIED)}
    missing = [file for file in files if file.name not in applied]
    for file in missing:
        async with connection.transaction():
            await connection.execute(file.read_text(encoding="utf-8"))
            await connection.execute(_RECORD, [file.name])
    return [file.name for file in missing]


async def _schema_release(connection: Any) -> str:
    """The newest Procrastinate release whose migrations this unrecorded schema already has."""
    for release, marker in _MARKERS.items():
        if await connection.fetchval(marker):
            return release
    raise RuntimeError(
        "The job queue's tables were made by a Procrastinate older than 3.0, which `migrate` "
        "cannot upgrade; upgrade them with Procrastinate 3.0's migrations first."
    )


async def _exists(connection: Any, table: str) -> bool:
    return bool(await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table))
