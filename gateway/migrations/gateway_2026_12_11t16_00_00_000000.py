"""The schema as the first 29 migrations (2026-11-23 to 2026-12-11) left it, in one readable
migration: each table family's tables, functions, indexes and triggers, then the back office's
views. Written as SQL, not Piccolo's column API, since views, partial indexes and triggers need
SQL anyway; the table classes (`gateway/*/tables.py`, `audit/tables.py`, `admin/screens.py`)
declare the same columns, and `tests/integration/test_schema_drift.py` fails when they differ.

A database migrated with the old chain already has all of this: `gateway.core.db.migrate`
records this migration as applied there, without running it (`REPLACES`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-11T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "baseline: the schema of 2026-12-11 in one migration"
REPLACES = (
    "2026-11-23T06:54:07:364044",
    "2026-11-23T07:10:00:000000",
    "2026-11-23T10:51:10:055803",
    "2026-11-23T10:52:00:000000",
    "2026-11-23T14:30:00:000000",
    "2026-11-23T14:50:00:000000",
    "2026-11-23T15:10:00:000000",
    "2026-12-01T17:00:00:000000",
    "2026-12-01T17:30:00:000000",
    "2026-12-04T10:00:00:000000",
    "2026-12-04T11:00:00:000000",
    "2026-12-04T12:00:00:000000",
    "2026-12-04T13:00:00:000000",
    "2026-12-05T09:00:00:000000",
    "2026-12-05T09:10:00:000000",
    "2026-12-06T10:00:00:000000",
    "2026-12-06T10:30:00:000000",
    "2026-12-06T16:06:00:000000",
    "2026-12-07T09:00:00:000000",
    "2026-12-07T10:00:00:000000",
    "2026-12-07T10:30:00:000000",
    "2026-12-07T11:00:00:000000",
    "2026-12-08T09:00:00:000000",
    "2026-12-08T09:30:00:000000",
    "2026-12-09T09:00:00:000000",
    "2026-12-09T09:30:00:000000",
    "2026-12-10T09:00:00:000000",
    "2026-12-10T10:00:00:000000",
    "2026-12-11T15:00:00:000000",
)

# Staff: back-office accounts, their sessions, second factors and form tokens
_STAFF = [
    """
    CREATE TABLE staff_users (
        username varchar(100) DEFAULT '' NOT NULL UNIQUE,
        password varchar(255) DEFAULT '' NOT NULL,
        first_name varchar(255) DEFAULT '',
        last_name varchar(255) DEFAULT '',
        email varchar(255) DEFAULT '' NOT NULL UNIQUE,
        active boolean DEFAULT false NOT NULL,
        admin boolean DEFAULT false NOT NULL,
        superuser boolean DEFAULT false NOT NULL,
        last_login timestamp without time zone,
        id serial PRIMARY KEY,
        role varchar(20) DEFAULT '' NOT NULL,
        failed_logins integer DEFAULT 0 NOT NULL,
        locked_until timestamptz,
        totp_secret text,
        totp_last_step bigint DEFAULT 0 NOT NULL,
        mfa_enrolled_at timestamptz,
        created_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        language varchar(8),
        time_zone varchar(64),
        CONSTRAINT staff_users_language_known CHECK (language IN ('en', 'fr', 'ar'))
    )
    """,
    """
    CREATE TABLE staff_sessions (
        token varchar(100) DEFAULT '' NOT NULL,
        user_id integer DEFAULT 0 NOT NULL,
        expiry_date timestamp without time zone DEFAULT (CURRENT_TIMESTAMP + '01:00:00'::interval) NOT NULL,
        max_expiry_date timestamp without time zone DEFAULT (CURRENT_TIMESTAMP + '7 days'::interval) NOT NULL,
        id serial PRIMARY KEY,
        created_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        last_seen_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE staff_recovery_codes (
        id serial PRIMARY KEY,
        staff_user integer REFERENCES staff_users(id) ON UPDATE CASCADE ON DELETE CASCADE,
        code_hash varchar(64) DEFAULT '' NOT NULL,
        used_at timestamptz
    )
    """,
    """
    CREATE TABLE staff_login_challenges (
        id serial PRIMARY KEY,
        token_hash varchar(64) DEFAULT '' NOT NULL UNIQUE,
        staff_user integer REFERENCES staff_users(id) ON UPDATE CASCADE ON DELETE CASCADE,
        pending_totp_secret text,
        expires_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE staff_form_submissions (
        staff_user_id integer NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
        token uuid NOT NULL,
        action text NOT NULL,
        correction_id uuid,
        created_at timestamptz DEFAULT now() NOT NULL,
        PRIMARY KEY (staff_user_id, token)
    )
    """,
    "CREATE INDEX staff_form_submissions_created ON staff_form_submissions (created_at)",
    "CREATE INDEX staff_recovery_codes_staff_user ON staff_recovery_codes (staff_user)",
    "CREATE INDEX staff_users_role ON staff_users (role)",
]

# API clients: keys, idempotent replays, shared rate limits
_API_CLIENTS = [
    """
    CREATE TABLE api_keys (
        id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
        name varchar(100) DEFAULT '' NOT NULL,
        prefix varchar(16) DEFAULT '' NOT NULL UNIQUE,
        secret_digest varchar(64) DEFAULT '' NOT NULL,
        scopes varchar(40)[] DEFAULT '{}' NOT NULL,
        rate_limit_per_minute integer,
        created_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        client varchar(100) NOT NULL
    )
    """,
    """
    CREATE TABLE idempotency_keys (
        id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
        api_key uuid REFERENCES api_keys(id) ON UPDATE CASCADE ON DELETE CASCADE,
        key varchar(255) DEFAULT '' NOT NULL,
        fingerprint varchar(64) DEFAULT '' NOT NULL,
        method varchar(10) DEFAULT '' NOT NULL,
        path text DEFAULT '' NOT NULL,
        state varchar(16) DEFAULT '' NOT NULL,
        response_status integer,
        response_content_type varchar(100) DEFAULT NULL,
        response_body bytea,
        locked_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        created_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        completed_at timestamptz,
        holder integer
    )
    """,
    """
    CREATE UNLOGGED TABLE rate_limit_windows (
        key text PRIMARY KEY,
        window_number bigint NOT NULL,
        current_count integer NOT NULL CHECK (current_count >= 0),
        previous_count integer NOT NULL CHECK (previous_count >= 0),
        expires_at timestamptz NOT NULL
    )
    """,
    "COMMENT ON COLUMN idempotency_keys.holder IS 'lease id of the process holding a running claim: pg_advisory_lock(1650945125, holder) is held while that process lives'",
    "CREATE INDEX api_keys_prefix ON api_keys (prefix)",
    "CREATE UNIQUE INDEX idempotency_keys_client_key ON idempotency_keys (api_key, key)",
    "CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)",
]

# Change requests and their fulfilment runs (a run's steps are the provider calls)
_CHANGE_REQUESTS = [
    """
CREATE FUNCTION change_requests_action_clears_triage_reason() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW.progress_at IS DISTINCT FROM OLD.progress_at
           AND NEW.triage_reason IS NOT DISTINCT FROM OLD.triage_reason THEN
            NEW.triage_reason := NULL;
            NEW.triage_reason_at := NULL;
            NEW.triage_kind := NULL;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TABLE change_requests (
        id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
        kind varchar(20) DEFAULT '' NOT NULL,
        status varchar(20) DEFAULT '' NOT NULL,
        ticket_url varchar(500) DEFAULT NULL,
        zuora_account_id varchar(100) DEFAULT NULL,
        stripe_customer_id varchar(100) DEFAULT NULL,
        stripe_connect_account_id varchar(100) DEFAULT NULL,
        backoffice_id varchar(100) DEFAULT NULL,
        company_name varchar(200) DEFAULT NULL,
        requester jsonb DEFAULT '{}' NOT NULL,
        contact_reasons varchar(200)[] DEFAULT '{}' NOT NULL,
        details jsonb DEFAULT '{}' NOT NULL,
        iban_ciphertext text,
        iban_hash varchar(64) DEFAULT NULL,
        api_key uuid REFERENCES api_keys(id) ON UPDATE CASCADE ON DELETE RESTRICT,
        idempotency_key varchar(255) DEFAULT NULL,
        created_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        updated_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        cancelled_at timestamptz,
        cancellation_reason text,
        assigned_at timestamptz,
        assignee_id integer,
        contact_reasons_fit_kind boolean DEFAULT true NOT NULL,
        processed_at timestamptz,
        processed_by_id integer,
        progress_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        resolution_note text,
        resolution_reasons varchar(200)[] DEFAULT NULL,
        review_comment text,
        review_required boolean DEFAULT false NOT NULL,
        reviewed_at timestamptz,
        reviewed_by_id integer,
        client varchar(100) NOT NULL,
        applied_by jsonb,
        checks jsonb,
        contract_return jsonb,
        ticket text NOT NULL,
        triage_reason text,
        triage_reason_at timestamptz,
        triage_kind varchar(20) CHECK (triage_kind IN ('expired', 'customer_silent', 'staff_deactivated'))
    )
    """,
    """
    CREATE TABLE fulfilment_runs (
        id uuid PRIMARY KEY,
        change_request_id uuid NOT NULL REFERENCES change_requests(id) ON DELETE RESTRICT,
        number integer NOT NULL CHECK (number >= 1),
        status varchar(20) NOT NULL CHECK (status IN ('waiting_approval', 'running', 'succeeded', 'failed', 'refused')),
        plan_hash text NOT NULL,
        preview_id text,
        started_by jsonb NOT NULL,
        started_by_staff_id integer,
        approved_by_id integer,
        acknowledged jsonb DEFAULT '[]' NOT NULL,
        identity_override_reason text,
        created_at timestamptz DEFAULT now() NOT NULL,
        updated_at timestamptz DEFAULT now() NOT NULL,
        finished_at timestamptz,
        deadline_at timestamptz NOT NULL,
        error_code text,
        error_message text,
        CONSTRAINT fulfilment_runs_change_request_id_number_key UNIQUE (change_request_id, number)
    )
    """,
    """
    CREATE TABLE fulfilment_steps (
        id uuid PRIMARY KEY,
        run_id uuid NOT NULL REFERENCES fulfilment_runs(id) ON DELETE RESTRICT,
        "position" integer NOT NULL,
        target text NOT NULL CHECK (target IN ('zuora_collection', 'stripe_customer_debit', 'stripe_connect_payout', 'zuora_subscription', 'stripe_subscription')),
        provider text NOT NULL CHECK (provider IN ('zuora', 'stripe')),
        operation text NOT NULL CHECK (operation IN ('create_sepa_method', 'set_default_method', 'close_method', 'add_payout_account', 'default_payout_account', 'remove_payout_account', 'change_quantity')),
        inputs jsonb NOT NULL,
        status varchar(20) DEFAULT 'pending' NOT NULL CHECK (status IN ('pending', 'calling', 'succeeded', 'failed', 'settled_by_hand')),
        attempts integer DEFAULT 0 NOT NULL,
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
        CONSTRAINT fulfilment_steps_run_id_position_key UNIQUE (run_id, "position")
    )
    """,
    "CREATE INDEX change_requests_assignee_id ON change_requests (assignee_id)",
    "CREATE INDEX change_requests_by_assignee ON change_requests (assignee_id, created_at DESC) WHERE (assignee_id IS NOT NULL)",
    "CREATE INDEX change_requests_by_assignee_status ON change_requests (assignee_id, status)",
    "CREATE INDEX change_requests_by_client ON change_requests (client, created_at DESC, id DESC)",
    "CREATE INDEX change_requests_by_maker ON change_requests (processed_by_id) WHERE (processed_by_id IS NOT NULL)",
    "CREATE INDEX change_requests_by_status ON change_requests (status, created_at DESC)",
    "CREATE INDEX change_requests_iban_hash ON change_requests (iban_hash)",
    "CREATE UNIQUE INDEX change_requests_idempotency ON change_requests (api_key, idempotency_key) WHERE (idempotency_key IS NOT NULL)",
    "CREATE INDEX change_requests_in_work ON change_requests (progress_at) WHERE (status IN ('assigned', 'in_progress', 'waiting_customer'))",
    "CREATE INDEX change_requests_kind ON change_requests (kind)",
    "CREATE INDEX change_requests_newest_first ON change_requests (created_at DESC, id DESC)",
    "CREATE UNIQUE INDEX change_requests_one_open_per_ticket ON change_requests (client, kind, ticket) WHERE (status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected', 'awaiting_approval', 'applying', 'apply_failed'))",
    "CREATE INDEX change_requests_open ON change_requests (created_at) WHERE (status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected', 'awaiting_approval', 'applying', 'apply_failed'))",
    "CREATE INDEX change_requests_status ON change_requests (status)",
    "CREATE INDEX change_requests_ticket ON change_requests (ticket)",
    "CREATE INDEX change_requests_ticket_id ON change_requests (substr(ticket, (strpos(ticket, ':'::text) + 1)))",
    "CREATE INDEX change_requests_to_review ON change_requests (processed_at) WHERE ((status IN ('applied', 'processed')) AND review_required)",
    "CREATE UNIQUE INDEX fulfilment_runs_one_live ON fulfilment_runs (change_request_id) WHERE (status IN ('waiting_approval', 'running'))",
    "CREATE INDEX fulfilment_runs_running ON fulfilment_runs (updated_at) WHERE ((status)::text = 'running'::text)",
    "CREATE TRIGGER change_requests_action_clears_triage_reason BEFORE UPDATE OF progress_at ON change_requests FOR EACH ROW WHEN ((old.triage_reason IS NOT NULL)) EXECUTE FUNCTION change_requests_action_clears_triage_reason()",
]

# Corrections: a staff-approved fix on a provider's object, step by step
_CORRECTIONS = [
    """
    CREATE TABLE corrections (
        id uuid PRIMARY KEY,
        kind varchar(30) NOT NULL CHECK (kind IN ('refund', 'cancel_subscription', 'void_invoice')),
        provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'::text),
        account_id text NOT NULL,
        object_id text NOT NULL,
        status varchar(20) NOT NULL CHECK (status IN ('awaiting_approval', 'running', 'succeeded', 'failed', 'refused')),
        reason text NOT NULL CHECK (length(btrim(reason)) > 0),
        ticket text,
        filed jsonb NOT NULL,
        payload jsonb NOT NULL,
        payload_hash text NOT NULL CHECK (payload_hash ~ '^[0-9a-f]{64}$'::text),
        computation jsonb,
        approval_required boolean NOT NULL,
        approval_rule text,
        client text,
        requested_by jsonb NOT NULL,
        requested_by_staff_id integer,
        approved_by_staff_id integer,
        approved_by jsonb,
        approved_hash text,
        refused_by_staff_id integer,
        refused_by jsonb,
        refusal_reason text,
        decided_at timestamptz,
        provider_events jsonb DEFAULT '[]' NOT NULL,
        created_at timestamptz DEFAULT now() NOT NULL,
        updated_at timestamptz DEFAULT now() NOT NULL,
        finished_at timestamptz,
        deadline_at timestamptz,
        error_code text,
        error_message text,
        CONSTRAINT corrections_maker_is_not_checker CHECK ((approved_by_staff_id IS NULL) OR (approved_by_staff_id IS DISTINCT FROM requested_by_staff_id)),
        CONSTRAINT corrections_refusal_has_reason CHECK (((status)::text <> 'refused'::text) OR (length(btrim(COALESCE(refusal_reason, ''::text))) > 0)),
        CONSTRAINT corrections_runs_only_approved CHECK ((NOT approval_required) OR (status IN ('awaiting_approval', 'refused')) OR ((approved_by_staff_id IS NOT NULL) AND (approved_hash = payload_hash)))
    )
    """,
    """
    CREATE TABLE correction_steps (
        id uuid PRIMARY KEY,
        correction_id uuid NOT NULL REFERENCES corrections(id) ON DELETE RESTRICT,
        "position" integer NOT NULL,
        provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'::text),
        operation text NOT NULL CHECK (operation IN ('refund_payment', 'cancel_subscription', 'void_invoice')),
        inputs jsonb NOT NULL,
        status varchar(20) DEFAULT 'pending' NOT NULL CHECK (status IN ('pending', 'calling', 'succeeded', 'failed', 'settled_by_hand')),
        attempts integer DEFAULT 0 NOT NULL,
        idempotency_key text NOT NULL UNIQUE,
        result jsonb,
        object_ids text[] DEFAULT '{}' NOT NULL,
        provider_request_id text,
        error_code text,
        error_message text,
        started_at timestamptz,
        finished_at timestamptz,
        settled_by_staff_id integer,
        settled_reason text,
        CONSTRAINT correction_steps_position_check CHECK ("position" >= 1),
        CONSTRAINT correction_steps_settled_has_reason CHECK (((status)::text <> 'settled_by_hand'::text) OR ((settled_by_staff_id IS NOT NULL) AND (length(btrim(COALESCE(settled_reason, ''::text))) > 0))),
        CONSTRAINT correction_steps_correction_id_position_key UNIQUE (correction_id, "position")
    )
    """,
    "CREATE INDEX correction_steps_objects ON correction_steps USING gin (object_ids)",
    "CREATE INDEX corrections_awaiting ON corrections (created_at) WHERE ((status)::text = 'awaiting_approval'::text)",
    "CREATE INDEX corrections_by_client ON corrections (client, created_at, id)",
    "CREATE INDEX corrections_by_created ON corrections (created_at, id)",
    "CREATE INDEX corrections_of_customer ON corrections (provider, account_id, created_at DESC)",
    "CREATE INDEX corrections_running ON corrections (updated_at) WHERE ((status)::text = 'running'::text)",
    "CREATE INDEX corrections_ticket ON corrections (ticket) WHERE (ticket IS NOT NULL)",
]

# Audit trail: append-only entries, their hash chain, signed checkpoints, per-subject keys
_AUDIT_TRAIL = [
    """
CREATE FUNCTION audit_records_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        RAISE EXCEPTION 'audit_records is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
CREATE FUNCTION audit_subject_keys_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        IF NEW IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
        IF (NEW.subject, NEW.key_id, NEW.created_at)
               IS NOT DISTINCT FROM (OLD.subject, OLD.key_id, OLD.created_at)
           AND OLD.wrapped_key IS NOT NULL AND OLD.forgotten_at IS NULL
           AND ((NEW.wrapped_key IS NULL AND NEW.forgotten_at IS NOT NULL
                 AND NEW.kek_id IS NOT DISTINCT FROM OLD.kek_id)
             OR (NEW.wrapped_key IS NOT NULL AND NEW.wrapped_key <> OLD.wrapped_key
                 AND NEW.kek_id IS NOT NULL AND NEW.kek_id IS DISTINCT FROM OLD.kek_id
                 AND NEW.forgotten_at IS NULL))
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE =
            'audit_subject_keys: only forgetting a subject or re-wrapping its key under'
            || ' another key-encryption key may change it (subject ' || OLD.subject || ')';
    END;
    $$
    """,
    """
    CREATE TABLE audit_records (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
        actor_type varchar(20) DEFAULT '' NOT NULL,
        actor_id varchar(100) DEFAULT '' NOT NULL,
        action varchar(100) DEFAULT '' NOT NULL,
        target_type varchar(50) DEFAULT '' NOT NULL,
        target_id text DEFAULT '' NOT NULL,
        request_id varchar(100) DEFAULT NULL,
        data jsonb DEFAULT '{}',
        subject varchar(200),
        payload text,
        mac text
    )
    """,
    """
    CREATE TABLE audit_chain (
        seq bigint PRIMARY KEY,
        entry_id bigint NOT NULL UNIQUE,
        prev_hash character(64) NOT NULL,
        hash character(64) NOT NULL,
        sealed_at timestamptz DEFAULT now() NOT NULL
    )
    """,
    """
    CREATE TABLE audit_checkpoints (
        seq bigint PRIMARY KEY,
        head_hash character(64) NOT NULL,
        signed_at timestamptz DEFAULT now() NOT NULL,
        public_key text NOT NULL,
        signature text NOT NULL
    )
    """,
    """
    CREATE TABLE audit_checkpoint_deliveries (
        sink text NOT NULL,
        seq bigint NOT NULL REFERENCES audit_checkpoints(seq),
        sent_at timestamptz DEFAULT now() NOT NULL,
        PRIMARY KEY (sink, seq)
    )
    """,
    """
    CREATE TABLE audit_subject_keys (
        subject varchar(200) PRIMARY KEY,
        key_id varchar(40) NOT NULL,
        wrapped_key text,
        kek_id varchar(40),
        created_at timestamptz DEFAULT now() NOT NULL,
        forgotten_at timestamptz
    )
    """,
    "COMMENT ON COLUMN audit_checkpoint_deliveries.sink IS 'stdout, or the endpoint as scheme://host:port/path (never its credentials or query)'",
    "COMMENT ON COLUMN audit_records.mac IS 'v1:<nonce>:<HMAC-SHA256> over the entry, under a key derived from BG_HASH_KEY'",
    "CREATE INDEX audit_records_action ON audit_records (action)",
    "CREATE INDEX audit_records_action_time ON audit_records (action, occurred_at)",
    "CREATE UNIQUE INDEX audit_records_mac ON audit_records (mac)",
    "CREATE INDEX audit_records_target_id ON audit_records (target_id)",
    "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_chain_no_update_or_delete BEFORE DELETE OR UPDATE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_checkpoints_no_update_or_delete BEFORE DELETE OR UPDATE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_records_no_update_or_delete BEFORE DELETE OR UPDATE ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()",
    "CREATE TRIGGER audit_subject_keys_forget_or_rotate_only BEFORE UPDATE ON audit_subject_keys FOR EACH ROW EXECUTE FUNCTION audit_subject_keys_guard()",
]

# Fraud: the blocklist (kept with its history), its imports and bulk unblocks
_FRAUD = [
    """
CREATE FUNCTION blocklist_keep_history() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        RAISE EXCEPTION 'blocklist entries are unblocked (removed_at), never deleted';
    END;
    $$
    """,
    """
CREATE FUNCTION blocklist_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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
    """
    CREATE TABLE blocklist_entries (
        id bigserial PRIMARY KEY,
        kind varchar(20) NOT NULL CHECK (kind IN ('card_fingerprint', 'card_bin', 'ip', 'ip_range', 'email', 'iban', 'customer')),
        value text NOT NULL,
        display varchar(200) NOT NULL,
        reason text NOT NULL,
        source_ticket varchar(130),
        author_type varchar(20) NOT NULL,
        author_id varchar(100) NOT NULL,
        created_at timestamptz DEFAULT now() NOT NULL,
        expires_at timestamptz,
        import_id uuid,
        removed_at timestamptz,
        removed_by_type varchar(20),
        removed_by_id varchar(100),
        removal_reason text
    )
    """,
    """
    CREATE TABLE blocklist_imports (
        id uuid PRIMARY KEY,
        status varchar(20) NOT NULL,
        rows jsonb NOT NULL,
        results jsonb,
        total integer NOT NULL,
        blocked integer DEFAULT 0 NOT NULL,
        refused integer DEFAULT 0 NOT NULL,
        author_type varchar(20) NOT NULL,
        author_id varchar(100) NOT NULL,
        created_at timestamptz DEFAULT now() NOT NULL,
        started_at timestamptz,
        finished_at timestamptz
    )
    """,
    """
    CREATE TABLE blocklist_bulk_unblocks (
        id bigserial PRIMARY KEY,
        entry_ids bigint[] NOT NULL CHECK (cardinality(entry_ids) > 0),
        reason text NOT NULL,
        requested_by_id integer NOT NULL,
        requested_at timestamptz DEFAULT now() NOT NULL,
        decided_by_id integer,
        decided_at timestamptz,
        decision varchar(20) CHECK (decision IN ('approved', 'rejected')),
        completed_at timestamptz,
        CONSTRAINT blocklist_bulk_unblocks_check CHECK (((decision IS NULL) = (decided_by_id IS NULL)) AND ((decision IS NULL) = (decided_at IS NULL))),
        CONSTRAINT blocklist_bulk_unblocks_check1 CHECK (((decision)::text IS DISTINCT FROM 'approved'::text) OR (decided_by_id <> requested_by_id)),
        CONSTRAINT blocklist_bulk_unblocks_check2 CHECK ((completed_at IS NULL) OR ((decision)::text = 'approved'::text))
    )
    """,
    "COMMENT ON COLUMN blocklist_entries.value IS 'normalised; an IBAN only as its keyed hash (the same as change_requests.iban_hash)'",
    "COMMENT ON COLUMN blocklist_bulk_unblocks.completed_at IS 'every entry unblocked; approved but not completed: approving again finishes the work'",
    "CREATE INDEX blocklist_bulk_unblocks_pending ON blocklist_bulk_unblocks (requested_at) WHERE (decision IS NULL)",
    "CREATE INDEX blocklist_entries_created ON blocklist_entries (created_at DESC, id DESC)",
    "CREATE INDEX blocklist_entries_import ON blocklist_entries (import_id, kind, value) WHERE (import_id IS NOT NULL)",
    "CREATE UNIQUE INDEX blocklist_entries_one_live ON blocklist_entries (kind, value) WHERE (removed_at IS NULL)",
    "CREATE INDEX blocklist_entries_source_ticket ON blocklist_entries (source_ticket) WHERE (source_ticket IS NOT NULL)",
    "CREATE TRIGGER blocklist_entries_inserted AFTER INSERT ON blocklist_entries REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION blocklist_notify()",
    "CREATE TRIGGER blocklist_entries_no_delete BEFORE DELETE ON blocklist_entries FOR EACH ROW EXECUTE FUNCTION blocklist_keep_history()",
    "CREATE TRIGGER blocklist_entries_updated AFTER UPDATE ON blocklist_entries REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION blocklist_notify()",
]

# Provider events: webhooks received, how far each provider's history was read
_PROVIDER_EVENTS = [
    """
    CREATE TABLE webhook_events (
        id uuid DEFAULT gen_random_uuid() PRIMARY KEY,
        provider varchar(20) NOT NULL,
        event_id varchar(255) NOT NULL,
        event_type varchar(100) NOT NULL,
        object_type varchar(100),
        object_id varchar(255),
        event_created timestamptz NOT NULL,
        payload jsonb NOT NULL,
        received_at timestamptz DEFAULT now() NOT NULL,
        processed_at timestamptz,
        outcome varchar(60),
        account_id varchar(255),
        CONSTRAINT webhook_events_once UNIQUE (provider, event_id)
    )
    """,
    """
    CREATE TABLE provider_watermarks (
        name varchar(100) PRIMARY KEY,
        pulled_until timestamptz NOT NULL,
        updated_at timestamptz DEFAULT now() NOT NULL
    )
    """,
    "CREATE INDEX webhook_events_object ON webhook_events (provider, object_id, event_created)",
    "CREATE INDEX webhook_events_pending ON webhook_events (received_at) WHERE (processed_at IS NULL)",
]

# Notifications: events, endpoints, deliveries and their attempts
_NOTIFICATIONS = [
    """
    CREATE TABLE notification_events (
        id uuid PRIMARY KEY,
        "position" bigserial,
        type text NOT NULL,
        subject_type text NOT NULL CHECK (subject_type IN ('change_request', 'correction', 'customer', 'cheque')),
        subject_id text NOT NULL,
        sequence integer NOT NULL CHECK (sequence >= 1),
        client text,
        customer jsonb,
        payload jsonb NOT NULL,
        occurred_at timestamptz DEFAULT now() NOT NULL,
        fanned_out_at timestamptz,
        notes jsonb,
        CONSTRAINT notification_events_position_key UNIQUE ("position"),
        CONSTRAINT notification_events_subject_type_subject_id_sequence_key UNIQUE (subject_type, subject_id, sequence)
    )
    """,
    """
    CREATE TABLE notification_sequences (
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        last_sequence integer NOT NULL,
        PRIMARY KEY (subject_type, subject_id)
    )
    """,
    """
    CREATE TABLE notification_endpoints (
        id uuid PRIMARY KEY,
        url text NOT NULL CHECK (length(url) <= 2000),
        description text DEFAULT '' NOT NULL,
        events text[] NOT NULL CHECK (cardinality(events) >= 1),
        client text,
        secret_ciphertext text NOT NULL,
        enabled boolean DEFAULT true NOT NULL,
        disabled_at timestamptz,
        disabled_reason text,
        failing_since timestamptz,
        last_success_at timestamptz,
        created_by jsonb NOT NULL,
        created_at timestamptz DEFAULT now() NOT NULL,
        updated_at timestamptz DEFAULT now() NOT NULL,
        language varchar(8) DEFAULT 'en' NOT NULL,
        CONSTRAINT notification_endpoints_language_known CHECK (language IN ('en', 'fr', 'ar'))
    )
    """,
    """
    CREATE TABLE notification_deliveries (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES notification_events(id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES notification_endpoints(id) ON DELETE CASCADE,
        status text DEFAULT 'pending' NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer DEFAULT 0 NOT NULL,
        next_attempt_at timestamptz,
        last_attempt_at timestamptz,
        delivered_at timestamptz,
        last_response_status integer,
        resend_requested boolean DEFAULT false NOT NULL,
        created_at timestamptz DEFAULT now() NOT NULL,
        CONSTRAINT notification_deliveries_event_id_endpoint_id_key UNIQUE (event_id, endpoint_id)
    )
    """,
    """
    CREATE TABLE notification_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES notification_deliveries(id) ON DELETE CASCADE,
        attempted_at timestamptz DEFAULT now() NOT NULL,
        duration_ms integer NOT NULL,
        response_status integer,
        error text,
        trigger text DEFAULT 'schedule' NOT NULL CHECK (trigger IN ('schedule', 'resend'))
    )
    """,
    "CREATE INDEX notification_attempts_delivery ON notification_attempts (delivery_id, id)",
    "CREATE INDEX notification_deliveries_by_endpoint ON notification_deliveries (endpoint_id, created_at DESC, id DESC)",
    "CREATE INDEX notification_deliveries_event ON notification_deliveries (event_id)",
    "CREATE INDEX notification_deliveries_pending ON notification_deliveries (endpoint_id, next_attempt_at) WHERE (status = 'pending'::text)",
    "CREATE INDEX notification_endpoints_client ON notification_endpoints (client)",
    "CREATE UNIQUE INDEX notification_endpoints_url ON notification_endpoints (COALESCE(client, ''::text), url)",
    "CREATE INDEX notification_events_type_time ON notification_events (type, occurred_at)",
    'CREATE INDEX notification_events_unfanned ON notification_events ("position") WHERE (fanned_out_at IS NULL)',
]

# Cheques: mailed cheques, deposit batches, scanner totals
_CHEQUES = [
    """
CREATE FUNCTION money_text(amount_minor bigint, currency text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT round(amount_minor::numeric / (10::numeric ^ e), e)::text || ' ' || upper(currency)
          FROM (SELECT CASE WHEN upper(currency) IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF', 'BYR') THEN 0
                            WHEN upper(currency) IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
                            WHEN upper(currency) IN ('CLF', 'UYW') THEN 4
                            ELSE 2 END AS e) AS exponent
    $$
    """,
    """
    CREATE TABLE cheque_number_sequences (
        initials text NOT NULL,
        business_date date NOT NULL,
        last integer NOT NULL,
        PRIMARY KEY (initials, business_date)
    )
    """,
    """
    CREATE TABLE cheque_batches (
        id uuid PRIMARY KEY,
        business_date date NOT NULL,
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'::text),
        depositor_staff_id bigint NOT NULL REFERENCES staff_users(id),
        depositor_username text NOT NULL,
        depositor_initials text NOT NULL,
        sequence integer NOT NULL,
        status text DEFAULT 'open' NOT NULL CHECK (status IN ('open', 'closed')),
        closed_at timestamptz,
        closed_by_staff_id bigint REFERENCES staff_users(id),
        closed_by_username text,
        scanner_total_minor bigint,
        created_at timestamptz DEFAULT now() NOT NULL,
        CONSTRAINT cheque_batches_business_date_currency_depositor_staff_id_se_key UNIQUE (business_date, currency, depositor_staff_id, sequence)
    )
    """,
    """
    CREATE TABLE cheque_batch_scans (
        id bigserial PRIMARY KEY,
        batch_id uuid NOT NULL REFERENCES cheque_batches(id),
        scanner_total_minor bigint NOT NULL,
        batch_total_minor bigint NOT NULL,
        cheque_count integer NOT NULL,
        matched boolean NOT NULL,
        by_username text NOT NULL,
        actor jsonb NOT NULL,
        scanned_at timestamptz,
        at timestamptz DEFAULT now() NOT NULL
    )
    """,
    """
    CREATE TABLE cheques (
        id uuid PRIMARY KEY,
        number text NOT NULL UNIQUE,
        payment_number text NOT NULL UNIQUE,
        reference text NOT NULL,
        provider text NOT NULL CHECK (provider IN ('zuora', 'stripe')),
        account_id text NOT NULL,
        account_name text,
        account_number text,
        invoice_id text,
        invoice_number text,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'::text),
        business_date date NOT NULL,
        batch_id uuid NOT NULL REFERENCES cheque_batches(id),
        depositor_staff_id bigint NOT NULL REFERENCES staff_users(id),
        status text NOT NULL CHECK (status IN ('recording', 'recorded', 'bouncing', 'bounced', 'failed')),
        provider_payment_id text,
        invoice_status text,
        note text,
        failure text,
        entered_by jsonb NOT NULL,
        client text,
        api_key_id uuid,
        idempotency_key text,
        entered_at timestamptz DEFAULT now() NOT NULL,
        recorded_at timestamptz,
        bounce_reason text,
        bounced_by jsonb,
        bounced_at timestamptz,
        deposited_at timestamptz,
        leased_until timestamptz,
        updated_at timestamptz DEFAULT now() NOT NULL
    )
    """,
    "CREATE INDEX cheque_batch_scans_of_batch ON cheque_batch_scans (batch_id, id)",
    "CREATE INDEX cheque_batches_newest ON cheque_batches (created_at DESC, id DESC)",
    "CREATE UNIQUE INDEX cheque_batches_one_open ON cheque_batches (business_date, currency, depositor_staff_id) WHERE (status = 'open'::text)",
    "CREATE INDEX cheques_bounced ON cheques (bounced_at) WHERE (bounced_at IS NOT NULL)",
    "CREATE INDEX cheques_by_day ON cheques (business_date, currency)",
    "CREATE INDEX cheques_newest ON cheques (entered_at DESC, id DESC)",
    "CREATE INDEX cheques_of_batch ON cheques (batch_id, entered_at)",
    "CREATE UNIQUE INDEX cheques_of_request ON cheques (api_key_id, idempotency_key) WHERE (api_key_id IS NOT NULL)",
    "CREATE UNIQUE INDEX cheques_same_cheque ON cheques (provider, account_id, reference) WHERE (status <> ALL (ARRAY['failed'::text, 'bounced'::text]))",
    "CREATE INDEX cheques_unfinished ON cheques (status, updated_at) WHERE (status = ANY (ARRAY['recording'::text, 'bouncing'::text]))",
]

# The back office's screens: one view each (admin/screens.py declares their columns)
_SCREENS = [
    """
    CREATE VIEW staff_names AS
     SELECT s.id,
        s.username,
        s.role,
        s.active
       FROM staff_users s
    """,
    """
    CREATE VIEW staff_accounts AS
     SELECT s.id,
        s.username,
        s.email,
        s.role,
        s.active,
        (s.mfa_enrolled_at IS NOT NULL) AS mfa_enrolled,
        COALESCE((s.locked_until > now()), false) AS locked,
        s.locked_until,
        s.failed_logins,
        s.last_login,
        ( SELECT count(*) AS count
               FROM staff_sessions session
              WHERE ((session.user_id = s.id) AND (session.max_expiry_date > now()))) AS sessions,
        s.created_at
       FROM staff_users s
    """,
    """
    CREATE VIEW api_key_list AS
     SELECT k.id,
        k.prefix,
        k.name,
        array_to_string(k.scopes, ', '::text) AS scopes,
        k.rate_limit_per_minute,
        k.created_at,
        k.expires_at,
        k.revoked_at,
        k.last_used_at,
        k.client
       FROM api_keys k
    """,
    """
    CREATE VIEW my_queue AS
     SELECT r.id,
        ((split_part(r.ticket, ':'::text, 1) || ' #'::text) || substr(r.ticket, (strpos(r.ticket, ':'::text) + 1))) AS ticket,
        substr(r.ticket, (strpos(r.ticket, ':'::text) + 1)) AS ticket_id,
        r.kind,
        r.status,
        r.company_name,
        r.zuora_account_id,
        r.stripe_customer_id,
        r.stripe_connect_account_id,
        (r.details ->> 'iban_masked'::text) AS iban,
        (r.details ->> 'bank_name'::text) AS bank_name,
        (r.details ->> 'bic'::text) AS bic,
        (r.details ->> 'account_holder'::text) AS account_holder,
        ( SELECT string_agg(target.value, ', '::text) AS string_agg
               FROM jsonb_array_elements_text((r.details -> 'targets'::text)) target(value)) AS targets,
            CASE
                WHEN (jsonb_typeof(r.checks) IS DISTINCT FROM 'object'::text) THEN 'not checked yet'::text
                WHEN ((r.kind)::text <> 'iban_change'::text) THEN 'not applicable to a plan change'::text
                ELSE (((COALESCE(( SELECT string_agg((x.f ->> 'sentence'::text), ' '::text ORDER BY x.n) AS string_agg
                   FROM jsonb_array_elements((r.checks -> 'findings'::text)) WITH ORDINALITY x(f, n)
                  WHERE (((x.f ->> 'code'::text) = 'collection_in_flight'::text) AND ((x.f ->> 'severity'::text) <> 'ok'::text))), ( SELECT string_agg((x.f ->> 'sentence'::text), ' '::text ORDER BY x.n) AS string_agg
                   FROM jsonb_array_elements((r.checks -> 'findings'::text)) WITH ORDINALITY x(f, n)
                  WHERE (((x.f ->> 'code'::text) = ANY (ARRAY['provider_unreadable'::text, 'collections_not_checked'::text, 'account_not_found'::text, 'provider_not_configured'::text])) AND ((x.f ->> 'severity'::text) <> 'ok'::text))), 'No direct debit is being collected.'::text) || ' (checked '::text) || to_char((((r.checks ->> 'computed_at'::text))::timestamp with time zone AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI'::text)) || ' UTC)'::text)
            END AS collection_in_flight,
            CASE
                WHEN (jsonb_typeof(r.checks) IS DISTINCT FROM 'object'::text) THEN 'not checked yet'::text
                WHEN ((r.kind)::text <> 'iban_change'::text) THEN 'not applicable to a plan change'::text
                ELSE (((COALESCE(( SELECT string_agg((x.f ->> 'sentence'::text), ' '::text ORDER BY x.n) AS string_agg
                   FROM jsonb_array_elements((r.checks -> 'findings'::text)) WITH ORDINALITY x(f, n)
                  WHERE (((x.f ->> 'code'::text) = ANY (ARRAY['other_bank_methods'::text, 'iban_already_on_account'::text])) AND ((x.f ->> 'severity'::text) <> 'ok'::text))), ( SELECT string_agg((x.f ->> 'sentence'::text), ' '::text ORDER BY x.n) AS string_agg
                   FROM jsonb_array_elements((r.checks -> 'findings'::text)) WITH ORDINALITY x(f, n)
                  WHERE (((x.f ->> 'code'::text) = ANY (ARRAY['provider_unreadable'::text, 'collections_not_checked'::text, 'account_not_found'::text, 'provider_not_configured'::text])) AND ((x.f ->> 'severity'::text) <> 'ok'::text))), 'No other active bank method.'::text) || ' (checked '::text) || to_char((((r.checks ->> 'computed_at'::text))::timestamp with time zone AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI'::text)) || ' UTC)'::text)
            END AS other_active_bank_methods,
        (r.details ->> 'subscription_ref'::text) AS subscription_ref,
        (r.details ->> 'current_tier'::text) AS current_tier,
        ((r.details -> 'target_tier'::text) ->> 'name'::text) AS target_tier,
        ((r.details ->> 'contract_signed_on'::text))::date AS contract_signed_on,
        (((r.details ->> 'needs_new_contract'::text))::boolean AND (jsonb_typeof(r.contract_return) IS DISTINCT FROM 'object'::text)) AS needs_new_contract,
        array_to_string(r.contact_reasons, '; '::text) AS contact_reasons,
        r.resolution_note,
        array_to_string(r.resolution_reasons, '; '::text) AS resolution_reasons,
        r.review_comment,
        r.assigned_at,
        r.progress_at,
        r.created_at,
        ( SELECT string_agg((((((((((split_part(o.ticket, ':'::text, 1) || ' #'::text) || substr(o.ticket, (strpos(o.ticket, ':'::text) + 1))) || ': '::text) || concat_ws(', '::text, o.company_name, o.backoffice_id, o.zuora_account_id, o.stripe_customer_id, o.stripe_connect_account_id, (o.requester ->> 'email'::text))) || ' ('::text) || (o.status)::text) || ', client '::text) || (o.client)::text) || ')'::text), '; '::text ORDER BY o.created_at) AS string_agg
               FROM change_requests o
              WHERE (((o.iban_hash)::text = (r.iban_hash)::text) AND (o.id <> r.id) AND ((o.status)::text <> 'cancelled'::text))) AS same_iban_elsewhere
       FROM change_requests r
      WHERE (r.assignee_id = (NULLIF(current_setting('bg.staff_user_id'::text, true), ''::text))::integer)
    """,
    """
    CREATE VIEW all_requests AS
     SELECT r.id,
        ((split_part(r.ticket, ':'::text, 1) || ' #'::text) || substr(r.ticket, (strpos(r.ticket, ':'::text) + 1))) AS ticket,
        substr(r.ticket, (strpos(r.ticket, ':'::text) + 1)) AS ticket_id,
        r.kind,
        r.status,
        r.assignee_id AS assignee,
        r.company_name,
        (r.details ->> 'iban_masked'::text) AS iban,
        ((r.details -> 'target_tier'::text) ->> 'name'::text) AS target_tier,
        array_to_string(r.contact_reasons, '; '::text) AS contact_reasons,
        r.processed_by_id AS processed_by,
        r.processed_at,
        r.resolution_note,
        r.reviewed_by_id AS reviewed_by,
        r.reviewed_at,
        r.review_comment,
        r.created_at,
        r.progress_at
       FROM change_requests r
    """,
    """
    CREATE VIEW triage AS
     SELECT r.id,
        ((split_part(r.ticket, ':'::text, 1) || ' #'::text) || substr(r.ticket, (strpos(r.ticket, ':'::text) + 1))) AS ticket,
        substr(r.ticket, (strpos(r.ticket, ':'::text) + 1)) AS ticket_id,
        r.kind,
        r.status,
        r.assignee_id AS assignee,
        (r.assignee_id IS NULL) AS unassigned,
        concat_ws('. '::text,
            CASE
                WHEN (r.triage_reason IS NOT NULL) THEN r.triage_reason
                WHEN ((r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')) AND (r.progress_at < (now() - make_interval(hours => (COALESCE(NULLIF(current_setting('bg.stale_hours'::text, true), ''::text), '24'::text))::integer)))) THEN ((('Stale: no progress'::text || COALESCE((' by '::text || (a.username)::text), ''::text)) || ' for '::text) ||
                CASE
                    WHEN ((floor((EXTRACT(epoch FROM (now() - r.progress_at)) / (3600)::numeric)))::integer >= 48) THEN ((((floor((EXTRACT(epoch FROM (now() - r.progress_at)) / (3600)::numeric)))::integer / 24))::text || ' days'::text)
                    ELSE (((floor((EXTRACT(epoch FROM (now() - r.progress_at)) / (3600)::numeric)))::integer)::text || ' hours'::text)
                END)
                WHEN (r.assignee_id IS NULL) THEN 'Unassigned'::text
                ELSE NULL::text
            END,
            CASE
                WHEN (NOT r.contact_reasons_fit_kind) THEN 'Contact reasons do not fit'::text
                ELSE NULL::text
            END) AS why,
        ((r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')) AND (r.progress_at < (now() - make_interval(hours => (COALESCE(NULLIF(current_setting('bg.stale_hours'::text, true), ''::text), '24'::text))::integer)))) AS stale,
        (NOT ((r.triage_kind)::text IS DISTINCT FROM 'expired'::text)) AS expired,
        (NOT ((r.triage_kind)::text IS DISTINCT FROM 'customer_silent'::text)) AS customer_silent,
        (NOT ((r.triage_kind)::text IS DISTINCT FROM 'staff_deactivated'::text)) AS returned,
        (NOT r.contact_reasons_fit_kind) AS reasons_mismatch,
        array_to_string(r.contact_reasons, '; '::text) AS contact_reasons,
        r.company_name,
        r.created_at,
        r.progress_at,
        r.triage_reason_at
       FROM (change_requests r
         LEFT JOIN staff_users a ON ((a.id = r.assignee_id)))
      WHERE ((r.status IN ('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected', 'awaiting_approval', 'applying', 'apply_failed')) AND ((r.assignee_id IS NULL) OR ((r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')) AND (r.progress_at < (now() - make_interval(hours => (COALESCE(NULLIF(current_setting('bg.stale_hours'::text, true), ''::text), '24'::text))::integer)))) OR (r.triage_reason IS NOT NULL) OR (NOT r.contact_reasons_fit_kind)))
    """,
    """
    CREATE VIEW review_queue AS
     SELECT r.id,
        ((split_part(r.ticket, ':'::text, 1) || ' #'::text) || substr(r.ticket, (strpos(r.ticket, ':'::text) + 1))) AS ticket,
        substr(r.ticket, (strpos(r.ticket, ':'::text) + 1)) AS ticket_id,
        r.kind,
        r.processed_by_id AS processed_by,
        r.processed_at,
        r.resolution_note,
        array_to_string(r.resolution_reasons, '; '::text) AS resolution_reasons,
        r.company_name,
        (r.details ->> 'iban_masked'::text) AS iban,
        ((r.details -> 'target_tier'::text) ->> 'name'::text) AS target_tier,
        r.created_at
       FROM change_requests r
      WHERE ((r.status IN ('applied', 'processed')) AND r.review_required)
    """,
    """
    CREATE VIEW audit_entries AS
     SELECT r.id,
        c.seq,
        r.occurred_at,
        r.actor_type,
        r.actor_id,
        r.action,
        r.target_type,
        r.target_id,
        r.request_id,
        r.subject,
            CASE
                WHEN (r.payload = 'erased'::text) THEN 'erased'::text
                WHEN (r.payload IS NULL) THEN 'masked (before encryption)'::text
                ELSE 'encrypted'::text
            END AS payload_state
       FROM (audit_records r
         LEFT JOIN audit_chain c ON ((c.entry_id = r.id)))
    """,
    """
    CREATE VIEW blocklist AS
     SELECT e.id,
        e.id AS entry_id,
        e.kind,
        e.display,
        e.reason,
        e.source_ticket,
        (((e.author_type)::text || ':'::text) || (e.author_id)::text) AS author,
        e.created_at,
        e.expires_at,
        ((e.removed_at IS NULL) AND ((e.expires_at IS NULL) OR (e.expires_at > now()))) AS active,
        e.removed_at,
        (((e.removed_by_type)::text || ':'::text) || (e.removed_by_id)::text) AS removed_by,
        e.removal_reason
       FROM blocklist_entries e
    """,
    """
    CREATE VIEW bulk_unblock_list AS
     SELECT b.id,
        b.id AS bulk_unblock_id,
        COALESCE(b.decision, 'pending'::character varying) AS status,
        array_to_string(b.entry_ids, ', '::text) AS entries,
        cardinality(b.entry_ids) AS entry_count,
        b.reason,
        maker.username AS requested_by,
        b.requested_at,
        checker.username AS decided_by,
        b.decided_at,
        b.completed_at
       FROM ((blocklist_bulk_unblocks b
         LEFT JOIN staff_users maker ON ((maker.id = b.requested_by_id)))
         LEFT JOIN staff_users checker ON ((checker.id = b.decided_by_id)))
    """,
    """
    CREATE VIEW mailed_cheques AS
     SELECT c.id,
        c.number,
        c.reference,
        c.status,
        c.provider,
            CASE
                WHEN (COALESCE(c.account_name, ''::text) = ''::text) THEN COALESCE(c.account_number, c.account_id)
                ELSE (((c.account_name || ' ('::text) || COALESCE(c.account_number, c.account_id)) || ')'::text)
            END AS account,
        c.account_id,
        COALESCE(c.invoice_number, c.invoice_id, ''::text) AS invoice_number,
        money_text(c.amount_minor, c.currency) AS amount,
        c.amount_minor,
        c.currency,
        c.business_date,
        ((((((to_char((b.business_date)::timestamp with time zone, 'YYYY-MM-DD'::text) || ' '::text) || b.currency) || ' '::text) || b.depositor_initials) || ' #'::text) || b.sequence) AS batch,
        b.depositor_username AS depositor,
        COALESCE(c.invoice_status, ''::text) AS invoice_status,
        COALESCE(c.note, ''::text) AS note,
        COALESCE(c.failure, ''::text) AS failure,
        COALESCE(c.bounce_reason, ''::text) AS bounce_reason,
        c.entered_at,
        c.recorded_at,
        c.bounced_at
       FROM (cheques c
         JOIN cheque_batches b ON ((b.id = c.batch_id)))
    """,
    """
    CREATE VIEW deposit_batches AS
     SELECT b.id,
        ((((((to_char((b.business_date)::timestamp with time zone, 'YYYY-MM-DD'::text) || ' '::text) || b.currency) || ' '::text) || b.depositor_initials) || ' #'::text) || b.sequence) AS name,
        b.business_date,
        b.currency,
        b.depositor_username AS depositor,
        b.status,
        (( SELECT count(*) AS count
               FROM cheques c
              WHERE ((c.batch_id = b.id) AND
                    CASE
                        WHEN (b.status = 'closed'::text) THEN (c.deposited_at IS NOT NULL)
                        ELSE (c.status = 'recorded'::text)
                    END)))::integer AS cheque_count,
        money_text((( SELECT COALESCE(sum(c.amount_minor), (0)::numeric) AS "coalesce"
               FROM cheques c
              WHERE ((c.batch_id = b.id) AND
                    CASE
                        WHEN (b.status = 'closed'::text) THEN (c.deposited_at IS NOT NULL)
                        ELSE (c.status = 'recorded'::text)
                    END)))::bigint, b.currency) AS total,
            CASE
                WHEN (b.scanner_total_minor IS NULL) THEN ''::text
                ELSE money_text(b.scanner_total_minor, b.currency)
            END AS scanner_total,
        COALESCE(b.closed_by_username, ''::text) AS closed_by,
        b.closed_at,
        b.created_at
       FROM cheque_batches b
    """,
]

FORWARDS = [
    *_STAFF,
    *_API_CLIENTS,
    *_CHANGE_REQUESTS,
    *_CORRECTIONS,
    *_AUDIT_TRAIL,
    *_FRAUD,
    *_PROVIDER_EVENTS,
    *_NOTIFICATIONS,
    *_CHEQUES,
    *_SCREENS,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
