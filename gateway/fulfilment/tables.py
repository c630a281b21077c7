"""The rows of Apply, as Piccolo sees them (piccolo-admin lists, filters and exports them);
created by the migration 2026-12-05T09:00, written in SQL by
gateway/change_requests/fulfilment_queries.py.
Staff ids are plain integers, as in change_requests, so that no screen offers the staff table."""

from piccolo.columns import JSONB, UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from gateway.change_requests.tables import ChangeRequest


class FulfilmentRun(Table, tablename="fulfilment_runs"):
    """One attempt to carry a request out; `number` counts them per request."""

    id = UUID(primary_key=True)
    change_request_id = ForeignKey(
        references=ChangeRequest, on_delete=OnDelete.restrict, null=False
    )
    number = Integer()
    status = Varchar(length=20)  # waiting_approval, running, succeeded, failed, refused
    plan_hash = Text()
    preview_id = Text(null=True, default=None)
    started_by = JSONB()  # the actor: {"kind", "id", "role"}
    started_by_staff_id = Integer(null=True, default=None)
    approved_by_id = Integer(null=True, default=None)
    acknowledged = JSONB(default=[])
    identity_override_reason = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    deadline_at = Timestamptz()
    error_code = Text(null=True, default=None)
    error_message = Text(null=True, default=None)


class FulfilmentStep(Table, tablename="fulfilment_steps"):
    """One provider call, written before it is made and recorded after it."""

    id = UUID(primary_key=True)
    run_id = ForeignKey(references=FulfilmentRun, on_delete=OnDelete.restrict, null=False)
    position = Integer()
    target = Text()
    provider = Text()
    operation = Text()
    inputs = JSONB()  # provider ids and names, never an IBAN
    status = Varchar(length=20, default="pending")
    attempts = Integer(default=0)
    idempotency_key = Text()
    result = JSONB(null=True, default=None)  # provider ids of what the step made
    provider_request_id = Text(null=True, default=None)
    error_code = Text(null=True, default=None)
    error_message = Text(null=True, default=None)
    before = JSONB(null=True, default=None)  # masked
    after = JSONB(null=True, default=None)  # masked
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    settled_by_id = Integer(null=True, default=None)
    settled_reason = Text(null=True, default=None)
