"""The webhook inbox: every provider event received once (unique on provider and event id),
then processed once by a job. A repeated delivery finds its row and changes nothing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-11-23T14:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhook inbox"

FORWARDS = [
    """
    CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider varchar(20) NOT NULL,
        event_id varchar(255) NOT NULL,
        event_type varchar(100) NOT NULL,
        object_type varchar(100),
        object_id varchar(255),
        event_created timestamptz NOT NULL,
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        outcome varchar(60),
        CONSTRAINT webhook_events_once UNIQUE (provider, event_id)
    )
    """,
    "CREATE INDEX webhook_events_object ON webhook_events (provider, object_id, event_created)",
    "CREATE INDEX webhook_events_pending ON webhook_events (received_at) WHERE processed_at IS NULL",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
