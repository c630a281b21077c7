"""Constraints Piccolo's column API can't declare, and the audit trail's append-only guard."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-11-23T07:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints, indexes and the append-only audit trigger"

FORWARDS = [
    # One key per client: the unique index is what lets exactly one concurrent request win.
    "CREATE UNIQUE INDEX idempotency_keys_client_key ON idempotency_keys (api_key, key)",
    # At most one open request of a kind per ticket. Keep the list in step with OPEN_STATUSES.
    "CREATE UNIQUE INDEX change_requests_one_open_per_ticket"
    " ON change_requests (kind, ticket_system, ticket_id)"
    " WHERE status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected')",
    # The recovery point for a request that committed but died before answering.
    "CREATE UNIQUE INDEX change_requests_idempotency"
    " ON change_requests (api_key, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "CREATE INDEX change_requests_newest_first ON change_requests (created_at DESC, id DESC)",
    """
    CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_records is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    "CREATE TRIGGER audit_records_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_records"
    " FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
