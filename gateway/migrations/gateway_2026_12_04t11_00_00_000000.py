"""Keys belong to a client, and change requests to the client that filed them.

A key sees its own client's requests only (unless it has `change-requests:all-clients`); several
keys of one client share them, so a rotated key keeps its requests. Existing keys become each
their own client, named after the key (what an operator already knows them by) or, where two
keys share a name, after the key and its prefix; existing
requests get their filing key's client, which every request has recorded (`api_key` is
required), so `legacy` (readable only with the all-clients scope) is a fallback that should
stay empty.

One open request per ticket is now per client: ticket 4711 in one company's Zendesk is not
ticket 4711 in another's. A filer learns of a duplicate IBAN only whether another customer has
it; staff see which requests in the back office (`my_queue.same_iban_elsewhere`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-04T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "API keys belong to a client; change requests are read per client"

_OPEN = "('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected')"
_TICKET = "r.ticket_system || ' #' || r.ticket_id"
_CHECK = "COALESCE(r.details->'checks'->>'{name}', 'not checked yet')"
_LISTED_SAME_IBAN = (
    "SELECT (jsonb_array_elements_text(r.details->'other_requests_with_same_iban'))::uuid"
)
_SHARE_A_REFERENCE = (
    "(o.backoffice_id = r.backoffice_id OR o.zuora_account_id = r.zuora_account_id"
    " OR o.stripe_customer_id = r.stripe_customer_id"
    " OR o.stripe_connect_account_id = r.stripe_connect_account_id)"
)

FORWARDS = [
    "ALTER TABLE api_keys ADD COLUMN client varchar(100)",
    # Named after the key where that name is unique; two keys sharing a name (free text) may be
    # two organisations' tools, so each of those becomes a client of its own.
    "UPDATE api_keys k SET client = CASE WHEN (SELECT count(*) FROM api_keys o"
    " WHERE o.name = k.name) = 1 THEN k.name ELSE k.name || '-' || k.prefix END",
    "ALTER TABLE api_keys ALTER COLUMN client SET NOT NULL",
    "ALTER TABLE change_requests ADD COLUMN client varchar(100)",
    "UPDATE change_requests r SET client = k.client FROM api_keys k WHERE k.id = r.api_key",
    "UPDATE change_requests SET client = 'legacy' WHERE client IS NULL",
    "ALTER TABLE change_requests ALTER COLUMN client SET NOT NULL",
    "CREATE INDEX change_requests_by_client ON change_requests (client, created_at DESC, id DESC)",
    "DROP INDEX change_requests_one_open_per_ticket",
    # Keep the status list in step with OPEN_STATUSES.
    "CREATE UNIQUE INDEX change_requests_one_open_per_ticket"
    f" ON change_requests (client, kind, ticket_system, ticket_id) WHERE status IN {_OPEN}",
    # Earlier filings listed every request with the same IBAN, whoever filed it: keep only the
    # filing client's own, and say whether another customer's request was among them.
    f"""
    UPDATE change_requests r
       SET details = r.details || jsonb_build_object(
           'other_requests_with_same_iban', COALESCE((
               SELECT jsonb_agg(o.id ORDER BY o.created_at) FROM change_requests o
                WHERE o.id IN ({_LISTED_SAME_IBAN}) AND o.client = r.client), '[]'::jsonb),
           'iban_on_file_for_another_customer', EXISTS (
               SELECT 1 FROM change_requests o
                WHERE o.id IN ({_LISTED_SAME_IBAN}) AND NOT COALESCE({_SHARE_A_REFERENCE}, false)))
     WHERE r.kind = 'iban_change' AND r.details ? 'other_requests_with_same_iban'
    """,
    # The specialist's screen gains, last, who else has this IBAN on file, in full.
    f"""
    CREATE OR REPLACE VIEW my_queue AS
    SELECT r.id, {_TICKET} AS ticket, r.ticket_id, r.kind, r.status, r.company_name,
           r.zuora_account_id, r.stripe_customer_id, r.stripe_connect_account_id,
           r.details->>'iban_masked' AS iban, r.details->>'bank_name' AS bank_name,
           r.details->>'bic' AS bic, r.details->>'account_holder' AS account_holder,
           (SELECT string_agg(target, ', ') FROM jsonb_array_elements_text(r.details->'targets')
             AS target) AS targets,
           {_CHECK.format(name="collection_in_flight")} AS collection_in_flight,
           {_CHECK.format(name="other_active_bank_methods")} AS other_active_bank_methods,
           r.details->>'subscription_ref' AS subscription_ref,
           r.details->>'current_tier' AS current_tier,
           r.details->'target_tier'->>'name' AS target_tier,
           (r.details->>'contract_signed_on')::date AS contract_signed_on,
           (r.details->>'needs_new_contract')::boolean AS needs_new_contract,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.resolution_note, array_to_string(r.resolution_reasons, '; ') AS resolution_reasons,
           r.review_comment, r.assigned_at, r.progress_at, r.created_at,
           (SELECT string_agg(o.ticket_system || ' #' || o.ticket_id || ': '
                   || concat_ws(', ', o.company_name, o.backoffice_id, o.zuora_account_id,
                                o.stripe_customer_id, o.stripe_connect_account_id,
                                o.requester->>'email')
                   || ' (' || o.status || ', client ' || o.client || ')',
                   '; ' ORDER BY o.created_at)
              FROM change_requests o
             WHERE o.iban_hash = r.iban_hash AND o.id <> r.id AND o.status <> 'cancelled')
             AS same_iban_elsewhere
      FROM change_requests r
     WHERE r.assignee_id = NULLIF(current_setting('bg.staff_user_id', true), '')::integer
    """,
    """
    CREATE OR REPLACE VIEW api_key_list AS
    SELECT k.id, k.prefix, k.name, array_to_string(k.scopes, ', ') AS scopes,
           k.rate_limit_per_minute, k.created_at, k.expires_at, k.revoked_at, k.last_used_at,
           k.client
      FROM api_keys k
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
