"""Zuora callouts in: the inbox keeps the account an event concerns (a Zuora callout's
object is re-read within its account), and a watermark per provider says up to when its
notification history was pulled (the minute job fills gaps from Zuora's callout history)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-06T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhook inbox account; provider history watermarks"

FORWARDS = [
    "ALTER TABLE webhook_events ADD COLUMN account_id varchar(255)",
    """
    CREATE TABLE provider_watermarks (
        name varchar(100) PRIMARY KEY,
        pulled_until timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
