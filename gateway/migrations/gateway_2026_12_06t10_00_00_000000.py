"""Corrections: refunds, cancellations with their follow-up and voids, each a small plan of
steps carried out at a provider, and the approval bound to the exact payload.

A correction is written with all its steps before the first provider call; each step is
marked `calling` before its call and recorded after it (as Apply's steps are). Requester and
approver are never the same person, admins included: the database refuses it too. The
application's role gets its grants after the migration (gateway.core.db.roles.apply_grants).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-06T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "corrections and their steps; approvals bound to the payload"

FORWARDS = [
    """
    CREATE TABLE corrections (
        id uuid PRIMARY KEY,
        kind varchar(30) NOT NULL
            CHECK (kind IN ('refund', 'cancel_subscription', 'void_invoice')),
        provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'),
        account_id text NOT NULL,
        object_id text NOT NULL,
        status varchar(20) NOT NULL
            CHECK (status IN ('awaiting_approval', 'running', 'succeeded', 'failed', 'refused')),
        reason text NOT NULL CHECK (length(btrim(reason)) > 0),
        ticket text,
        filed jsonb NOT NULL,
        payload jsonb NOT NULL,
        payload_hash text NOT NULL CHECK (payload_hash ~ '^[0-9a-f]{64}$'),
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
        provider_events jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        deadline_at timestamptz,
        error_code text,
        error_message text,
        -- maker-checker, admins included (NULL: not approved, or filed by an API key)
        CONSTRAINT corrections_maker_is_not_checker CHECK (
            approved_by_staff_id IS NULL
            OR approved_by_staff_id IS DISTINCT FROM requested_by_staff_id),
        -- a correction that needs approval runs only once approved, on the hash approved
        CONSTRAINT corrections_runs_only_approved CHECK (
            NOT approval_required OR status IN ('awaiting_approval', 'refused')
            OR (approved_by_staff_id IS NOT NULL AND approved_hash = payload_hash)),
        CONSTRAINT corrections_refusal_has_reason CHECK (
            status <> 'refused' OR length(btrim(coalesce(refusal_reason, ''))) > 0)
    )
    """,
    # The team leads' queue, oldest first.
    "CREATE INDEX corrections_awaiting ON corrections (created_at)"
    " WHERE status = 'awaiting_approval'",
    # The customer page: a customer's corrections, newest first.
    "CREATE INDEX corrections_of_customer ON corrections (provider, account_id, created_at DESC)",
    # The list (keyset on created_at, id), all clients or one.
    "CREATE INDEX corrections_by_created ON corrections (created_at, id)",
    "CREATE INDEX corrections_by_client ON corrections (client, created_at, id)",
    # The sweep: running corrections without step progress.
    "CREATE INDEX corrections_running ON corrections (updated_at) WHERE status = 'running'",
    """
    CREATE TABLE correction_steps (
        id uuid PRIMARY KEY,
        correction_id uuid NOT NULL REFERENCES corrections (id) ON DELETE RESTRICT,
        position integer NOT NULL CHECK (position >= 1),
        provider text NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'),
        operation text NOT NULL
            CHECK (operation IN ('refund_payment', 'cancel_subscription', 'void_invoice')),
        inputs jsonb NOT NULL,
        status varchar(20) NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'calling', 'succeeded', 'failed', 'settled_by_hand')),
        attempts integer NOT NULL DEFAULT 0,
        idempotency_key text NOT NULL UNIQUE,
        result jsonb,
        -- the provider objects the step acts on or made (payment, refund, invoice,
        -- subscription): where a provider's news about one of them is recorded
        object_ids text[] NOT NULL DEFAULT '{}',
        provider_request_id text,
        error_code text,
        error_message text,
        started_at timestamptz,
        finished_at timestamptz,
        -- a team lead's word that the step was done at the provider by hand
        settled_by_staff_id integer,
        settled_reason text,
        CONSTRAINT correction_steps_settled_has_reason CHECK (
            status <> 'settled_by_hand'
            OR (settled_by_staff_id IS NOT NULL AND length(btrim(coalesce(settled_reason, ''))) > 0)),
        UNIQUE (correction_id, position)
    )
    """,
    "CREATE INDEX correction_steps_objects ON correction_steps USING gin (object_ids)",
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
