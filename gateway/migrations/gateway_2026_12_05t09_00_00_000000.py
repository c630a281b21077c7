"""Apply: the runs and steps that carry a change request out at the providers, the statuses
they lead through, and who applied a request through the API.

A run is written with all its steps before the first provider call; each step is marked
`calling` before its call and recorded after it, so that a crash anywhere resumes where it
stopped. At most one run of a request is live (waiting for approval or running) at a time.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fulfilment runs and steps; apply statuses"

# Keep in step with OPEN_STATUSES.
_OPEN = (
    "('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected',"
    " 'awaiting_approval', 'applying', 'apply_failed')"
)
_TICKET = "r.ticket_system || ' #' || r.ticket_id"
_STALE_HOURS = "COALESCE(NULLIF(current_setting('bg.stale_hours', true), ''), '24')::integer"
_EXPIRE_DAYS = "COALESCE(NULLIF(current_setting('bg.expire_days', true), ''), '3')::integer"
_STALE = (
    "(r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')"
    f" AND r.progress_at < now() - make_interval(hours => {_STALE_HOURS}))"
)
_EXPIRED = (
    f"(r.created_at < now() - make_interval(days => {_EXPIRE_DAYS})"
    " OR (r.status = 'waiting_customer'"
    f" AND r.progress_at < now() - make_interval(days => {_EXPIRE_DAYS})))"
)

FORWARDS = [
    # The API key that applied (staff are processed_by_id): the maker of the applied work.
    "ALTER TABLE change_requests ADD COLUMN applied_by jsonb",
    """
    CREATE TABLE fulfilment_runs (
        id uuid PRIMARY KEY,
        change_request_id uuid NOT NULL REFERENCES change_requests (id) ON DELETE RESTRICT,
        number integer NOT NULL CHECK (number >= 1),
        status varchar(20) NOT NULL
            CHECK (status IN ('waiting_approval', 'running', 'succeeded', 'failed', 'refused')),
        plan_hash text NOT NULL,
        preview_id text,
        started_by jsonb NOT NULL,
        started_by_staff_id integer,
        approved_by_id integer,
        -- what the maker acknowledged: a team lead's approval runs under the same
        acknowledged jsonb NOT NULL DEFAULT '[]'::jsonb,
        identity_override_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        deadline_at timestamptz NOT NULL,
        error_code text,
        error_message text,
        UNIQUE (change_request_id, number)
    )
    """,
    # One live run per request: two applies at once cannot both start one.
    "CREATE UNIQUE INDEX fulfilment_runs_one_live ON fulfilment_runs (change_request_id)"
    " WHERE status IN ('waiting_approval', 'running')",
    "CREATE INDEX fulfilment_runs_running ON fulfilment_runs (updated_at) WHERE status = 'running'",
    """
    CREATE TABLE fulfilment_steps (
        id uuid PRIMARY KEY,
        run_id uuid NOT NULL REFERENCES fulfilment_runs (id) ON DELETE RESTRICT,
        position integer NOT NULL,
        target text NOT NULL CHECK (target IN ('zuora_collection', 'stripe_customer_debit',
            'stripe_connect_payout', 'zuora_subscription', 'stripe_subscription')),
        provider text NOT NULL CHECK (provider IN ('zuora', 'stripe')),
        operation text NOT NULL CHECK (operation IN ('create_sepa_method', 'set_default_method',
            'close_method', 'add_payout_account', 'default_payout_account',
            'remove_payout_account', 'change_quantity')),
        inputs jsonb NOT NULL,
        status varchar(20) NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'calling', 'succeeded', 'failed', 'settled_by_hand')),
        attempts integer NOT NULL DEFAULT 0,
        idempotency_key text NOT NULL,
        result jsonb,
        provider_request_id text,
        error_code text,
        error_message text,
        before jsonb,
        after jsonb,
        started_at timestamptz,
        finished_at timestamptz,
        settled_by_id integer,
        settled_reason text,
        UNIQUE (run_id, position)
    )
    """,
    "DROP INDEX change_requests_one_open_per_ticket",
    "CREATE UNIQUE INDEX change_requests_one_open_per_ticket"
    f" ON change_requests (client, kind, ticket_system, ticket_id) WHERE status IN {_OPEN}",
    "DROP INDEX change_requests_open",
    f"CREATE INDEX change_requests_open ON change_requests (created_at) WHERE status IN {_OPEN}",
    # Applied work is what a team lead reviews now (processed: old rows done by hand).
    "DROP INDEX change_requests_to_review",
    "CREATE INDEX change_requests_to_review ON change_requests (processed_at)"
    " WHERE status IN ('applied', 'processed') AND review_required",
    f"""
    CREATE OR REPLACE VIEW triage AS
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
    CREATE OR REPLACE VIEW review_queue AS
    SELECT r.id, {_TICKET} AS ticket, r.ticket_id, r.kind, r.processed_by_id AS processed_by, r.processed_at,
           r.resolution_note, array_to_string(r.resolution_reasons, '; ') AS resolution_reasons,
           r.company_name, r.details->>'iban_masked' AS iban,
           r.details->'target_tier'->>'name' AS target_tier, r.created_at
      FROM change_requests r
     WHERE r.status IN ('applied', 'processed') AND r.review_required
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
