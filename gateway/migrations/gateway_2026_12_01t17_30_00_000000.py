"""Fraud-stop in the back office: the blocklist's screen, and bulk unblocks under maker-checker.

The `blocklist` view shows each entry's `display` only, never its stored `value` (for an IBAN,
the keyed hash). A bulk unblock is asked for by one team lead or admin and approved by another;
only then are its entries unblocked, each through the blocklist service. Staff ids are plain
integers, as on change_requests; the database refuses an approval by the one who asked.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-01T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "blocklist screen and bulk unblocks"

FORWARDS = [
    """
    CREATE VIEW blocklist AS
    SELECT e.id, e.id AS entry_id, e.kind, e.display, e.reason, e.source_ticket,
           e.author_type || ':' || e.author_id AS author, e.created_at, e.expires_at,
           (e.removed_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > now())) AS active,
           e.removed_at, e.removed_by_type || ':' || e.removed_by_id AS removed_by,
           e.removal_reason
      FROM blocklist_entries e
    """,
    """
    CREATE TABLE blocklist_bulk_unblocks (
        id bigserial PRIMARY KEY,
        entry_ids bigint[] NOT NULL CHECK (cardinality(entry_ids) > 0),
        reason text NOT NULL,
        requested_by_id integer NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        decided_by_id integer,
        decided_at timestamptz,
        decision varchar(20) CHECK (decision IN ('approved', 'rejected')),
        completed_at timestamptz,
        CHECK ((decision IS NULL) = (decided_by_id IS NULL)
               AND (decision IS NULL) = (decided_at IS NULL)),
        CHECK (decision IS DISTINCT FROM 'approved' OR decided_by_id <> requested_by_id),
        CHECK (completed_at IS NULL OR decision = 'approved')
    )
    """,
    "COMMENT ON COLUMN blocklist_bulk_unblocks.completed_at IS"
    " 'every entry unblocked; approved but not completed: approving again finishes the work'",
    "CREATE INDEX blocklist_bulk_unblocks_pending ON blocklist_bulk_unblocks (requested_at)"
    " WHERE decision IS NULL",
    """
    CREATE VIEW bulk_unblock_list AS
    SELECT b.id, b.id AS bulk_unblock_id, COALESCE(b.decision, 'pending') AS status,
           array_to_string(b.entry_ids, ', ') AS entries,
           cardinality(b.entry_ids) AS entry_count, b.reason,
           maker.username AS requested_by, b.requested_at,
           checker.username AS decided_by, b.decided_at, b.completed_at
      FROM blocklist_bulk_unblocks b
      LEFT JOIN staff_users maker ON maker.id = b.requested_by_id
      LEFT JOIN staff_users checker ON checker.id = b.decided_by_id
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
