"""The audit trail's screen for team leads and admins: metadata only, with each entry's place
in the chain; payloads are decrypted one at a time through an audited action."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-11-23T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit entries view"

FORWARDS = [
    """
    CREATE VIEW audit_entries AS
    SELECT r.id, c.seq, r.occurred_at, r.actor_type, r.actor_id, r.action, r.target_type,
           r.target_id, r.request_id, r.subject,
           CASE WHEN r.payload = 'erased' THEN 'erased'
                WHEN r.payload IS NULL THEN 'masked (before encryption)'
                ELSE 'encrypted' END AS payload_state
      FROM audit_records r LEFT JOIN audit_chain c ON c.entry_id = r.id
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
