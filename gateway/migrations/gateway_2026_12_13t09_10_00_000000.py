"""change_requests: the indexes on (status) alone and on (assignee_id) alone dropped. The ones
on (status, created_at) and on (assignee_id, status) serve every lookup they served (their
leading column), and each filing wrote all of them: two B-trees fewer per request filed, moved
or assigned (issue 21, filing throughput)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-13T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "change_requests: redundant status and assignee_id indexes dropped"

FORWARDS: list[str] = [
    "DROP INDEX IF EXISTS change_requests_status",
    "DROP INDEX IF EXISTS change_requests_assignee_id",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
