"""The audit trail's guards, completed: a MAC column for each entry (written by the application
under a key the database never sees, so that an entry forged or edited with database rights alone
is named by `audit verify`), and the TRUNCATE guard `audit_checkpoints` lacked.

Entries written before this have no MAC: they stay covered by the chain and the signed
checkpoints only (a MAC computed now would vouch for nothing about the time they were written).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-04T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit entry MACs and the checkpoints' TRUNCATE guard"

FORWARDS = [
    "ALTER TABLE audit_records ADD COLUMN mac text",
    "COMMENT ON COLUMN audit_records.mac IS"
    " 'v1:<nonce>:<HMAC-SHA256> over the entry, under a key derived from BG_HASH_KEY'",
    # Each MAC has a nonce of its own: a second row with the same MAC is a copy, refused here
    # (and named by `audit verify` should the index be dropped to let one in).
    "CREATE UNIQUE INDEX audit_records_mac ON audit_records (mac)",
    "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
