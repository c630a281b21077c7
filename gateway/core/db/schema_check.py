"""Is the database's schema the code's? Piccolo's migrations (app "all") all applied, and
Procrastinate's tables present with every one of its migration files applied
(`gateway.core.db.job_schema`). Cached once true: a schema never goes back."""

from __future__ import annotations

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.conf.apps import MigrationModule

from gateway.core.db.connection import fetch
from gateway.core.db.job_schema import migration_files

_STATE = """
SELECT to_regclass('migration') IS NOT NULL AS has_migrations,
       to_regclass('procrastinate_jobs') IS NOT NULL AS has_jobs,
       to_regclass('procrastinate_applied_migrations') IS NOT NULL AS has_job_record
"""
_APPLIED = "SELECT app_name, name FROM migration"
_JOBS_APPLIED = "SELECT name FROM procrastinate_applied_migrations"
_up_to_date = False


def shipped_migrations() -> dict[tuple[str, str], MigrationModule]:
    """(app, migration id) of every migration the code ships, with its module, read from the
    migration folders (no database)."""
    manager = BaseMigrationManager()
    shipped: dict[tuple[str, str], MigrationModule] = {}
    for module in manager.get_app_modules():
        config = module.APP_CONFIG
        found = manager.get_migration_modules(config.resolved_migrations_folder_path)
        shipped |= {(config.app_name, key): migration for key, migration in found.items()}
    return shipped


def expected_migrations() -> set[tuple[str, str]]:
    return set(shipped_migrations())


async def schema_problem() -> str | None:
    """None when the schema is current, else a sentence for the operator."""
    global _up_to_date
    if _up_to_date:
        return None
    state = (await fetch(_STATE))[0]
    if not state["has_migrations"]:
        return "The database has no migrations applied; run `billing-gateway migrate`."
    applied = {(row["app_name"], row["name"]) for row in await fetch(_APPLIED)}
    missing = len(expected_migrations() - applied)
    if missing:
        return f"{missing} database migrations are not applied; run `billing-gateway migrate`."
    if not state["has_jobs"]:
        return "The job queue's tables are missing; run `billing-gateway migrate`."
    jobs_applied = (
        {row["name"] for row in await fetch(_JOBS_APPLIED)} if state["has_job_record"] else set()
    )
    jobs_missing = len({file.name for file in migration_files()} - jobs_applied)
    if jobs_missing:
        return (
            f"{jobs_missing} of the job queue's migrations are not applied; run "
            "`billing-gateway migrate`."
        )
    _up_to_date = True
    return None
