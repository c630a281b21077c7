"""Fraud-stop lists: blocklist entries (never deleted: unblocking marks them removed, with who
and why), bulk imports with a per-row result, and a notification on every change so that each
process's in-memory matcher follows within milliseconds."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-01T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fraud-stop blocklists"

FORWARDS = [
    """
    CREATE TABLE blocklist_entries (
        id bigserial PRIMARY KEY,
        kind varchar(20) NOT NULL CHECK (kind IN
            ('card_fingerprint', 'card_bin', 'ip', 'ip_range', 'email', 'iban', 'customer')),
        value text NOT NULL,
        display varchar(200) NOT NULL,
        reason text NOT NULL,
        source_ticket varchar(130),
        author_type varchar(20) NOT NULL,
        author_id varchar(100) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        import_id uuid,
        removed_at timestamptz,
        removed_by_type varchar(20),
        removed_by_id varchar(100),
        removal_reason text
    )
    """,
    "COMMENT ON COLUMN blocklist_entries.value IS"
    " 'normalised; an IBAN only as its keyed hash (the same as change_requests.iban_hash)'",
    "CREATE UNIQUE INDEX blocklist_entries_one_live ON blocklist_entries (kind, value)"
    " WHERE removed_at IS NULL",
    "CREATE INDEX blocklist_entries_created ON blocklist_entries (created_at DESC, id DESC)",
    # an import run again finds the rows it already blocked
    "CREATE INDEX blocklist_entries_import ON blocklist_entries (import_id, kind, value)"
    " WHERE import_id IS NOT NULL",
    """
    CREATE TABLE blocklist_imports (
        id uuid PRIMARY KEY,
        status varchar(20) NOT NULL,
        rows jsonb NOT NULL,
        results jsonb,
        total integer NOT NULL,
        blocked integer NOT NULL DEFAULT 0,
        refused integer NOT NULL DEFAULT 0,
        author_type varchar(20) NOT NULL,
        author_id varchar(100) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
    )
    """,
    # Every committed change names the changed ids on channel bg_blocklist, in chunks that fit
    # NOTIFY's 8,000-byte payload; listeners re-read those rows, so order never matters.
    """
    CREATE FUNCTION blocklist_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        chunk text;
    BEGIN
        FOR chunk IN
            SELECT string_agg(id::text, ',')
              FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / 500 AS part
                      FROM changed) numbered
             GROUP BY part
        LOOP
            PERFORM pg_notify('bg_blocklist', chunk);
        END LOOP;
        RETURN NULL;
    END;
    $$
    """,
    "CREATE TRIGGER blocklist_entries_inserted AFTER INSERT ON blocklist_entries"
    " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION blocklist_notify()",
    "CREATE TRIGGER blocklist_entries_updated AFTER UPDATE ON blocklist_entries"
    " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION blocklist_notify()",
    # History is kept: entries are unblocked, never deleted.
    """
    CREATE FUNCTION blocklist_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'blocklist entries are unblocked (removed_at), never deleted';
    END;
    $$
    """,
    "CREATE TRIGGER blocklist_entries_no_delete BEFORE DELETE ON blocklist_entries"
    " FOR EACH ROW EXECUTE FUNCTION blocklist_keep_history()",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
