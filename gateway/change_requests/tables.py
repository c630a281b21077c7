from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from gateway.api_keys.tables import ApiKey


class ChangeRequest(Table, tablename="change_requests"):
    """An IBAN change or plan change filed by a support tool.

    The IBAN is kept only encrypted, as a keyed hash for duplicate look-ups, and masked
    (country + last 4) inside `details`.
    """

    id = UUID(primary_key=True)
    kind = Varchar(length=20, index=True)
    # Indexed with created_at (migration 2026-12-13T09:10): one B-tree serves both.
    status = Varchar(length=20)
    ticket = Text()  # "zendesk:1001": gateway.tickets.canonical_ticket, the one stored form
    ticket_url = Varchar(length=500, null=True, default=None)
    zuora_account_id = Varchar(length=100, null=True, default=None)
    stripe_customer_id = Varchar(length=100, null=True, default=None)
    stripe_connect_account_id = Varchar(length=100, null=True, default=None)
    backoffice_id = Varchar(length=100, null=True, default=None)
    company_name = Varchar(length=200, null=True, default=None)
    requester = JSONB()
    contact_reasons = Array(base_column=Varchar(length=200))
    details = JSONB()
    iban_ciphertext = Text(null=True, default=None)
    iban_hash = Varchar(length=64, null=True, default=None, index=True)
    api_key = ForeignKey(references=ApiKey, on_delete=OnDelete.restrict)
    # The filing key's client: only that client's keys (or an all-clients key) read it.
    client = Varchar(length=100)
    idempotency_key = Varchar(length=255, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    cancellation_reason = Text(null=True, default=None)
    # Back-office work. Staff ids are plain integers, not foreign keys, so that piccolo-admin
    # never offers the staff table as a related table on a queue screen.
    contact_reasons_fit_kind = Boolean(default=True)
    progress_at = Timestamptz(default=TimestamptzNow())  # last step forward; triage finds stale
    # Why the lifecycle put it in Triage (gateway/change_requests/lifecycle.py): a sentence, its
    # kind (expired, customer_silent, staff_deactivated) and when; any action clears them.
    triage_reason = Text(null=True, default=None)
    triage_reason_at = Timestamptz(null=True, default=None)
    triage_kind = Varchar(length=20, null=True, default=None)
    assignee_id = Integer(null=True, default=None)  # indexed with status and with created_at
    assigned_at = Timestamptz(null=True, default=None)
    processed_by_id = Integer(null=True, default=None)
    processed_at = Timestamptz(null=True, default=None)
    resolution_note = Text(null=True, default=None)
    resolution_reasons = Array(base_column=Varchar(length=200), null=True, default=None)
    review_required = Boolean(default=False)
    # Partial index change_requests_by_checker (reviewed_by_id, created_at DESC), raw SQL in
    # the migrations, as change_requests_by_maker for processed_by_id: the lead's filters.
    reviewed_by_id = Integer(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    review_comment = Text(null=True, default=None)
    # Who applied it (gateway/fulfilment/), the live pre-checks (gateway/fulfilment/checks.py)
    # and the contract gate's record.
    applied_by = JSONB(null=True, default=None)
    checks = JSONB(null=True, default=None)
    contract_return = JSONB(null=True, default=None)
