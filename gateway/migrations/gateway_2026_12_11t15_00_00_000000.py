"""The team lead's dashboard (/staff/dashboard) counts the last 14 days of the audit trail
(expiries, applies, review outcomes, blocks and unblocks) and of the notification events
(changes stopped by fraud-stop) per day: indexes that reach those days directly, instead of
every entry of an action ever written."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-11T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dashboard: audit entries and notification events by kind and time"

FORWARDS = [
    "CREATE INDEX audit_records_action_time ON audit_records (action, occurred_at)",
    "CREATE INDEX notification_events_type_time ON notification_events (type, occurred_at)",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
