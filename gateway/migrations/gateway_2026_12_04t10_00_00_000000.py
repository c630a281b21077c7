"""Each idempotency claim names the process holding it (its lease: a session-level advisory
lock that process holds), so that a retry can take over at once the claim of a process that is
gone instead of waiting out the lock timeout. Claims made before this have no holder and keep
the timeout."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-04T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency claims name their holder"

FORWARDS = [
    "ALTER TABLE idempotency_keys ADD COLUMN holder integer",
    "COMMENT ON COLUMN idempotency_keys.holder IS 'lease id of the process holding a running"
    " claim: pg_advisory_lock(1650945125, holder) is held while that process lives'",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
