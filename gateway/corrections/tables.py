"""The rows of corrections, as Piccolo sees them (piccolo-admin lists, filters and exports
them); created by the migration 2026-12-06T10:00, written by gateway/corrections/ in SQL.
Staff ids are plain integers, as in fulfilment_runs, so that no screen offers the staff table."""

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


class Correction(Table, tablename="corrections"):
    """One refund, cancellation or void, filed with a reason, approved first where the policy
    says so, carried out as steps."""

    id = UUID(primary_key=True)
    kind = Varchar(length=30)  # refund, cancel_subscription, void_invoice
    provider = Text()
    account_id = Text()  # the provider's customer: Zuora account id, Stripe customer id
    object_id = Text()  # what it was filed on: the payment, subscription or invoice
    status = Varchar(length=20)  # awaiting_approval, running, succeeded, failed, refused
    reason = Text()
    ticket = Text(null=True, default=None)
    filed = JSONB()  # the order as filed (when, then, amount asked for)
    payload = JSONB()  # the steps as they run: what the approver saw
    payload_hash = Text()
    computation = JSONB(null=True, default=None)  # a prepaid cancellation's refund, worked out
    approval_required = Boolean()
    approval_rule = Text(null=True, default=None)
    client = Text(null=True, default=None)  # the API key's client; NULL: filed by staff
    requested_by = JSONB()
    requested_by_staff_id = Integer(null=True, default=None)
    approved_by_staff_id = Integer(null=True, default=None)
    approved_by = JSONB(null=True, default=None)
    approved_hash = Text(null=True, default=None)
    refused_by_staff_id = Integer(null=True, default=None)
    refused_by = JSONB(null=True, default=None)
    refusal_reason = Text(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    provider_events = JSONB(default=[])
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    deadline_at = Timestamptz(null=True, default=None)
    error_code = Text(null=True, default=None)
    error_message = Text(null=True, default=None)


class CorrectionStep(Table, tablename="correction_steps"):
    """One provider call, written before it is made and recorded after it."""

    id = UUID(primary_key=True)
    correction_id = ForeignKey(references=Correction, on_delete=OnDelete.restrict, null=False)
    position = Integer()
    provider = Text()
    operation = Text()  # refund_payment, cancel_subscription, void_invoice
    inputs = JSONB()
    status = Varchar(length=20, default="pending")  # pending, calling, succeeded, failed
    attempts = Integer(default=0)
    idempotency_key = Text()
    result = JSONB(null=True, default=None)
    object_ids = Array(base_column=Text())
    provider_request_id = Text(null=True, default=None)
    error_code = Text(null=True, default=None)
    error_message = Text(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    settled_by_staff_id = Integer(null=True, default=None)
    settled_reason = Text(null=True, default=None)
