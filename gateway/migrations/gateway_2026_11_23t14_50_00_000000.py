"""The audit trail made trustworthy: payloads encrypted under a data key per subject (wrapped by
the key-encryption key), a hash chain in its own append-only table (one gap-free order, sealed
after commit), and signed checkpoints. Entries written before this keep their masked `data`."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-11-23T14:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "encrypted, chained audit trail"

FORWARDS = [
    "ALTER TABLE audit_records ALTER COLUMN data DROP NOT NULL",
    "ALTER TABLE audit_records ADD COLUMN subject varchar(200)",
    "ALTER TABLE audit_records ADD COLUMN payload text",
    """
    CREATE TABLE audit_subject_keys (
        subject varchar(200) PRIMARY KEY,
        key_id varchar(40) NOT NULL,
        wrapped_key text,
        kek_id varchar(40),
        created_at timestamptz NOT NULL DEFAULT now(),
        forgotten_at timestamptz
    )
    """,
    """
    CREATE TABLE audit_chain (
        seq bigint PRIMARY KEY,
        entry_id bigint NOT NULL UNIQUE,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL,
        sealed_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE audit_checkpoints (
        seq bigint PRIMARY KEY,
        head_hash char(64) NOT NULL,
        signed_at timestamptz NOT NULL DEFAULT now(),
        public_key text NOT NULL,
        signature text NOT NULL
    )
    """,
    "CREATE TRIGGER audit_chain_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_chain"
    " FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_checkpoints_no_update_or_delete BEFORE UPDATE OR DELETE"
    " ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
