"""The back office's read models: one SQL view per screen, and the indexes its pages need.

Views, not ad-hoc filters, because piccolo-admin has no per-user read hook and its `/ids/`
endpoint ignores filters: a specialist's screen is a view that can only ever return rows
assigned to the staff member named by the `bg.staff_user_id` setting, which the back office's
guard sets for each request (no setting, no rows). Triage thresholds arrive the same way.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-11-23T10:52:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "back-office views and queue indexes"

_TICKET = "r.ticket_system || ' #' || r.ticket_id"
_OPEN = "('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected')"
_STALE_HOURS = "COALESCE(NULLIF(current_setting('bg.stale_hours', true), ''), '24')::integer"
_EXPIRE_DAYS = "COALESCE(NULLIF(current_setting('bg.expire_days', true), ''), '3')::integer"
_STALE = (
    "(r.status IN ('assigned', 'in_progress', 'rejected')"
    f" AND r.progress_at < now() - make_interval(hours => {_STALE_HOURS}))"
)
_EXPIRED = (
    f"(r.created_at < now() - make_interval(days => {_EXPIRE_DAYS})"
    " OR (r.status = 'waiting_customer'"
    f" AND r.progress_at < now() - make_interval(days => {_EXPIRE_DAYS})))"
)
# What the gateway found before the change; filled in by the provider adapters.
_CHECK = "COALESCE(r.details->'checks'->>'{name}', 'not checked yet')"

FORWARDS = [
    "CREATE INDEX change_requests_by_assignee"
    " ON change_requests (assignee_id, created_at DESC) WHERE assignee_id IS NOT NULL",
    # Counts by person and status (a queue's tabs, a lead's filters) read this index alone.
    "CREATE INDEX change_requests_by_assignee_status ON change_requests (assignee_id, status)",
    f"CREATE INDEX change_requests_open ON change_requests (created_at) WHERE status IN {_OPEN}",
    "CREATE INDEX change_requests_to_review ON change_requests (processed_at)"
    " WHERE status = 'processed' AND review_required",
    "CREATE INDEX change_requests_by_status ON change_requests (status, created_at DESC)",
    "CREATE INDEX change_requests_by_maker"
    " ON change_requests (processed_by_id) WHERE processed_by_id IS NOT NULL",
    f"""
    CREATE VIEW my_queue AS
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
           r.review_comment, r.assigned_at, r.progress_at, r.created_at
      FROM change_requests r
     WHERE r.assignee_id = NULLIF(current_setting('bg.staff_user_id', true), '')::integer
    """,
    # The lead's screens join nothing: a count over a million rows then reads the smallest
    # index only. Staff appear as ids that piccolo-admin resolves through `staff_names`, for
    # the 15 rows on screen only, and filters on them use the indexed id.
    f"""
    CREATE VIEW all_requests AS
    SELECT r.id, {_TICKET} AS ticket, r.ticket_id, r.kind, r.status, r.assignee_id AS assignee,
           r.company_name, r.details->>'iban_masked' AS iban,
           r.details->'target_tier'->>'name' AS target_tier,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.processed_by_id AS processed_by, r.processed_at, r.resolution_note,
           r.reviewed_by_id AS reviewed_by, r.reviewed_at, r.review_comment, r.created_at, r.progress_at
      FROM change_requests r
    """,
    f"""
    CREATE VIEW triage AS
    SELECT r.id, {_TICKET} AS ticket, r.ticket_id, r.kind, r.status, r.assignee_id AS assignee,
           r.assignee_id IS NULL AS unassigned, {_STALE} AS stale, {_EXPIRED} AS expired,
           NOT r.contact_reasons_fit_kind AS reasons_mismatch,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.company_name, r.created_at, r.progress_at
      FROM change_requests r
     WHERE r.status IN {_OPEN}
       AND (r.assignee_id IS NULL OR {_STALE} OR {_EXPIRED} OR NOT r.contact_reasons_fit_kind)
    """,
    f"""
    CREATE VIEW review_queue AS
    SELECT r.id, {_TICKET} AS ticket, r.ticket_id, r.kind, r.processed_by_id AS processed_by, r.processed_at,
           r.resolution_note, array_to_string(r.resolution_reasons, '; ') AS resolution_reasons,
           r.company_name, r.details->>'iban_masked' AS iban,
           r.details->'target_tier'->>'name' AS target_tier, r.created_at
      FROM change_requests r
     WHERE r.status = 'processed' AND r.review_required
    """,
    "CREATE VIEW staff_names AS SELECT s.id, s.username, s.role, s.active FROM staff_users s",
    """
    CREATE VIEW staff_accounts AS
    SELECT s.id, s.username, s.email, s.role, s.active,
           s.mfa_enrolled_at IS NOT NULL AS mfa_enrolled,
           COALESCE(s.locked_until > now(), false) AS locked, s.locked_until, s.failed_logins,
           s.last_login,
           (SELECT count(*) FROM staff_sessions session
             WHERE session.user_id = s.id AND session.max_expiry_date > now()) AS sessions,
           s.created_at
      FROM staff_users s
    """,
    """
    CREATE VIEW api_key_list AS
    SELECT k.id, k.prefix, k.name, array_to_string(k.scopes, ', ') AS scopes,
           k.rate_limit_per_minute, k.created_at, k.expires_at, k.revoked_at, k.last_used_at
      FROM api_keys k
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
