"""audit_records: the index on (action) alone dropped. The one on (action, occurred_at) serves
every lookup it served (its leading column), and each append wrote both: one B-tree fewer per
entry (issue 21, audit appends within 1.5x of a plain INSERT)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-13T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_records: redundant action index dropped"

FORWARDS: list[str] = [
    "DROP INDEX IF EXISTS audit_records_action",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
