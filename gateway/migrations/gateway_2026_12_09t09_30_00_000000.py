"""Audit checkpoints off the host: which checkpoints each HTTP or stdout sink has taken.

A directory sink reads back its own file; an HTTP endpoint or standard output cannot be read
back, so the gateway records here what it sent, and sends what is missing at the next run
(at least once: the receiver dedupes by seq). A table of its own rather than a column of
`audit_checkpoints`, which stays append-only (no UPDATE for the application's role); this one
is append-only to that role too (`gateway.core.db.roles`). The foreign key makes a TRUNCATE of the
checkpoints (tests, as the server's admin) empty it too.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-09T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit: checkpoint deliveries to HTTP and stdout sinks"

FORWARDS = [
    """
    CREATE TABLE audit_checkpoint_deliveries (
        sink text NOT NULL,
        seq bigint NOT NULL REFERENCES audit_checkpoints (seq),
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sink, seq)
    )
    """,
    "COMMENT ON COLUMN audit_checkpoint_deliveries.sink IS"
    " 'stdout, or the endpoint as scheme://host:port/path (never its credentials or query)'",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
