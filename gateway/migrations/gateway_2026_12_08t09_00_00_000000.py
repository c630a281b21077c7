"""Offline payments (cheques): the cheques, their daily batches per currency and depositor, every
scanner total a close was tried with, and each depositor's daily numbering.

A cheque is written `recording` before the provider is called and finished after it (a minute
sweep finishes those whose process died: `updated_at` is their lease). The same physical cheque
(provider, account, reference) is recorded once unless it failed or bounced; at most one batch
per day, currency and depositor is open. Written by gateway/cheques/ in SQL. Notification
events may now be about a cheque.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-08T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "offline payments: cheques, cheque batches and their scans, cheque numbering"

FORWARDS = [
    """
    CREATE TABLE cheque_batches (
      id uuid PRIMARY KEY,
      business_date date NOT NULL,
      currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      depositor_staff_id bigint NOT NULL REFERENCES staff_users (id),
      depositor_username text NOT NULL,
      depositor_initials text NOT NULL,
      sequence integer NOT NULL,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
      closed_at timestamptz, closed_by_staff_id bigint REFERENCES staff_users (id),
      closed_by_username text, scanner_total_minor bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (business_date, currency, depositor_staff_id, sequence)
    )
    """,
    # At most one open batch per day, currency and depositor.
    "CREATE UNIQUE INDEX cheque_batches_one_open ON cheque_batches"
    " (business_date, currency, depositor_staff_id) WHERE status = 'open'",
    # The batch lists, newest first.
    "CREATE INDEX cheque_batches_newest ON cheque_batches (created_at DESC, id DESC)",
    """
    CREATE TABLE cheque_batch_scans (
      id bigserial PRIMARY KEY, batch_id uuid NOT NULL REFERENCES cheque_batches (id),
      scanner_total_minor bigint NOT NULL, batch_total_minor bigint NOT NULL,
      cheque_count integer NOT NULL, matched boolean NOT NULL,
      by_username text NOT NULL, actor jsonb NOT NULL,
      scanned_at timestamptz, at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX cheque_batch_scans_of_batch ON cheque_batch_scans (batch_id, id)",
    """
    CREATE TABLE cheques (
      id uuid PRIMARY KEY,
      number text NOT NULL UNIQUE,
      payment_number text NOT NULL UNIQUE,
      reference text NOT NULL,
      provider text NOT NULL CHECK (provider IN ('zuora', 'stripe')),
      account_id text NOT NULL,
      account_name text, account_number text,
      invoice_id text, invoice_number text,
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      business_date date NOT NULL,
      batch_id uuid NOT NULL REFERENCES cheque_batches (id),
      depositor_staff_id bigint NOT NULL REFERENCES staff_users (id),
      status text NOT NULL
        CHECK (status IN ('recording', 'recorded', 'bouncing', 'bounced', 'failed')),
      provider_payment_id text, invoice_status text,
      note text, failure text,
      entered_by jsonb NOT NULL,
      client text,
      api_key_id uuid, idempotency_key text,
      entered_at timestamptz NOT NULL DEFAULT now(),
      recorded_at timestamptz,
      bounce_reason text, bounced_by jsonb, bounced_at timestamptz,
      deposited_at timestamptz,                -- in its batch's deposit: recorded at the close
      leased_until timestamptz,                -- a provider call for it is under way until then
      updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX cheques_of_batch ON cheques (batch_id, entered_at)",
    "CREATE INDEX cheques_by_day ON cheques (business_date, currency)",
    "CREATE INDEX cheques_bounced ON cheques (bounced_at) WHERE bounced_at IS NOT NULL",
    # The same physical cheque twice.
    "CREATE UNIQUE INDEX cheques_same_cheque ON cheques (provider, account_id, reference)"
    " WHERE status NOT IN ('failed', 'bounced')",
    # The request that entered it: a retry resumes that row.
    "CREATE UNIQUE INDEX cheques_of_request ON cheques (api_key_id, idempotency_key)"
    " WHERE api_key_id IS NOT NULL",
    # What the finishing sweep looks for.
    "CREATE INDEX cheques_unfinished ON cheques (status, updated_at)"
    " WHERE status IN ('recording', 'bouncing')",
    # The list, newest first.
    "CREATE INDEX cheques_newest ON cheques (entered_at DESC, id DESC)",
    # A cheque's notifications (cheque.recorded, cheque.bounced) have the cheque as subject.
    "ALTER TABLE notification_events DROP CONSTRAINT notification_events_subject_type_check",
    "ALTER TABLE notification_events ADD CONSTRAINT notification_events_subject_type_check"
    " CHECK (subject_type IN ('change_request', 'correction', 'customer', 'cheque'))",
    """
    CREATE TABLE cheque_number_sequences (
      initials text, business_date date,
      last integer NOT NULL, PRIMARY KEY (initials, business_date)
    )
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
