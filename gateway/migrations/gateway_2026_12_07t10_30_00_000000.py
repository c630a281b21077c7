"""Delivery of outgoing notifications: the endpoints support tools register, one delivery per
event and endpoint, and every attempt kept (status, duration, response code).

Runs after 2026-12-07T10:00 (notification_events). A delivery is unique per event and endpoint,
so a fan-out that runs twice never sends an event twice; attempts are never updated.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-07T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification endpoints, deliveries and attempts"

FORWARDS = [
    """
    CREATE TABLE notification_endpoints (
        id uuid PRIMARY KEY,
        url text NOT NULL CHECK (length(url) <= 2000),
        description text NOT NULL DEFAULT '',
        events text[] NOT NULL CHECK (cardinality(events) >= 1),
        client text,
        secret_ciphertext text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        disabled_at timestamptz,
        disabled_reason text,
        failing_since timestamptz,
        last_success_at timestamptz,
        created_by jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX notification_endpoints_client ON notification_endpoints (client)",
    # One endpoint per URL and client: a retried registration finds the first (409), since
    # its answer (the secret) is never stored to be replayed.
    """
    CREATE UNIQUE INDEX notification_endpoints_url ON notification_endpoints
        (coalesce(client, ''), url)
    """,
    """
    CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES notification_endpoints (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        last_response_status integer,
        resend_requested boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (event_id, endpoint_id)
    )
    """,
    """
    CREATE INDEX notification_deliveries_pending ON notification_deliveries
        (endpoint_id, next_attempt_at) WHERE status = 'pending'
    """,
    """
    CREATE INDEX notification_deliveries_by_endpoint ON notification_deliveries
        (endpoint_id, created_at DESC, id DESC)
    """,
    "CREATE INDEX notification_deliveries_event ON notification_deliveries (event_id)",
    """
    CREATE TABLE notification_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        duration_ms integer NOT NULL,
        response_status integer,
        error text,
        trigger text NOT NULL DEFAULT 'schedule' CHECK (trigger IN ('schedule', 'resend'))
    )
    """,
    "CREATE INDEX notification_attempts_delivery ON notification_attempts (delivery_id, id)",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
