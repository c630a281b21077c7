"""The notification outbox: one row per state change a support tool may hear about, written in
the transaction that makes the change (an event exists exactly when the change committed).

`position` orders the fan-out; `sequence` numbers the events of one subject 1..n, counted in
`notification_sequences` (one row per subject, whose row lock orders two changes of one subject
until the first commits); `payload` is the exact body sent to endpoints (masked data only).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-07T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification events (the outbox of outgoing notifications)"

FORWARDS = [
    """
    CREATE TABLE notification_events (
        id uuid PRIMARY KEY,
        position bigserial NOT NULL UNIQUE,
        type text NOT NULL,
        subject_type text NOT NULL
            CHECK (subject_type IN ('change_request', 'correction', 'customer')),
        subject_id text NOT NULL,
        sequence integer NOT NULL CHECK (sequence >= 1),
        client text,
        customer jsonb,
        payload jsonb NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        fanned_out_at timestamptz,
        UNIQUE (subject_type, subject_id, sequence)
    )
    """,
    """
    CREATE INDEX notification_events_unfanned ON notification_events (position)
        WHERE fanned_out_at IS NULL
    """,
    """
    CREATE TABLE notification_sequences (
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        last_sequence integer NOT NULL,
        PRIMARY KEY (subject_type, subject_id)
    )
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
