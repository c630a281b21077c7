"""Each staff member's language and time zone for the back office (NULL: follow the browser's
language, and the gateway's `staff_time_zone`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-10T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff: language and time zone preferences"

FORWARDS = [
    "ALTER TABLE staff_users ADD COLUMN language varchar(8), ADD COLUMN time_zone varchar(64)",
    "ALTER TABLE staff_users ADD CONSTRAINT staff_users_language_known"
    " CHECK (language IN ('en', 'fr', 'ar'))",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
