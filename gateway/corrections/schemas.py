"""What corrections read and return: explicit structs, never ORM rows. Money is always
{amount_minor, currency}, integer minor units of the currency's ISO 4217 exponent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from gateway.edge.bodies import PRINTABLE, Strict, text

_NO_SPACE = r"[^@\x00-\x20\x7f]+"

Provider = Literal["zuora", "stripe"]
Kind = Literal["refund", "cancel_subscription", "void_invoice"]
Status = Literal["awaiting_approval", "running", "succeeded", "failed", "refused"]
When = Literal["now", "end_of_term", "on_date"]
Then = Literal["nothing", "refund_last_payment", "void_open_invoice", "refund_remaining"]
Operation = Literal["refund_payment", "cancel_subscription", "void_invoice"]

Reason = Annotated[str, text(1000)]
# The ticket in any spelling ("zendesk #77"), stored and answered as "zendesk:77".
Ticket = Annotated[
    str, Meta(min_length=1, max_length=200, pattern=PRINTABLE, examples=["zendesk:77"])
]
# Provider ids as both providers write them: never a quote, slash or space (ids end up in
# ZOQL queries and URL paths).
ProviderId = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]
Currency = Annotated[str, Meta(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$")]
Email = Annotated[str, Meta(max_length=254, pattern=rf"^{_NO_SPACE}@{_NO_SPACE}\.{_NO_SPACE}$")]


class RequestedBy(Strict, kw_only=True):
    """Who asked, as the support tool knows them (an API-key filing has no staff member)."""

    name: Annotated[str, text(100)]
    email: Email | None = None


class RefundCreate(Strict, kw_only=True):
    """`POST /v1/refunds`: all that is left of the payment, or `amount_minor` of it."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "provider": "stripe",
        "payment_id": "pi_3QxYz2LkdIwHu7ix0Ab1Cd2E",
        "reason": "Charged twice for the March invoice; refunding the second payment.",
        "amount_minor": 4900,
        "currency": "EUR",
        "ticket": "zendesk:1005",
        "requested_by": {"name": "Sam Agent", "email": "sam.agent@support.example"},
    }

    provider: Provider
    payment_id: ProviderId
    reason: Reason
    amount_minor: Annotated[int, Meta(ge=1, le=10**15)] | None = None
    currency: Currency | None = None  # when given, it must be the payment's
    ticket: Ticket | None = None
    requested_by: RequestedBy | None = None


class CancelBody(Strict, kw_only=True):
    """The body of `POST /v1/subscriptions/{provider}/{ref}/cancel`. `customer` (optional):
    the subscription's customer (Zuora account number or id, Stripe customer id, back-office
    id); when given, the subscription is looked for among that customer's only."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "reason": "The customer closes the business at the end of the term.",
        "when": "end_of_term",
        "then": "nothing",
        "ticket": "zendesk:1006",
        "customer": "A00012345",
    }

    reason: Reason
    when: When = "now"
    on: date | None = None  # with when = on_date
    then: Then = "nothing"
    ticket: Ticket | None = None
    customer: ProviderId | None = None
    requested_by: RequestedBy | None = None


class CancelCreate(Strict, kw_only=True):
    provider: Provider
    subscription_id: ProviderId
    reason: Reason
    when: When = "now"
    on: date | None = None
    then: Then = "nothing"
    ticket: Ticket | None = None
    customer: ProviderId | None = None
    requested_by: RequestedBy | None = None


class VoidBody(Strict, kw_only=True):
    """The body of `POST /v1/invoices/{provider}/{ref}/void`."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "reason": "Invoice raised for seats the customer had already removed.",
        "ticket": "zendesk:1007",
    }

    reason: Reason
    ticket: Ticket | None = None
    requested_by: RequestedBy | None = None


class VoidCreate(Strict, kw_only=True):
    provider: Provider
    invoice_id: ProviderId
    reason: Reason
    ticket: Ticket | None = None
    requested_by: RequestedBy | None = None


class ApproveBody(Strict, kw_only=True):
    payload_hash: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]


class RefuseBody(Strict, kw_only=True):
    reason: Reason


class MoneyRead(Struct, kw_only=True):
    amount_minor: int
    currency: str


class StepPayload(Struct, kw_only=True):
    """One step as it will run: what the approver sees and the hash covers."""

    position: int
    operation: Operation
    inputs: dict[str, Any]  # provider ids, dates, and money as {amount_minor, currency}


class Computation(Struct, kw_only=True):
    """A prepaid cancellation's refund: the unused part of the period, minus the fee."""

    payment_amount: MoneyRead
    period_start: date
    period_end: date
    cancelled_on: date
    days_total: int
    days_unused: int
    unused_value: MoneyRead
    fee_percent: str  # a decimal, exact ("30", "12.5")
    fee_applies_to: Literal["unused_value", "remaining_payment"]
    fee: MoneyRead
    refund: MoneyRead
    # kept back so the refund is an amount the provider takes (Stripe: KWD in 0.010 steps)
    rounded_down: MoneyRead | None = None


class ApprovalRead(Struct, kw_only=True):
    required: bool
    rule: str  # the sentence of the policy that applies (or that none does)
    approved_by: str | None = None
    refused_by: str | None = None
    refusal_reason: str | None = None
    decided_at: datetime | None = None


class StepRead(Struct, kw_only=True):
    # One name per schema in the OpenAPI document: generated clients make a class of each.
    __schema_name__: ClassVar[str] = "CorrectionStepRead"
    position: int
    operation: str
    status: str  # pending, calling, succeeded, failed, settled_by_hand
    result: dict[str, Any] | None
    provider_request_id: str | None
    error_code: str | None
    error_message: str | None
    started_at: datetime | None
    finished_at: datetime | None
    settled_reason: str | None = None  # why a team lead settled it by hand


class RequesterRead(Struct, kw_only=True):
    kind: str  # staff, api_key
    name: str  # the staff member's user name, or the API key's name (and who it said asked)
    email: str | None = None


class CorrectionRead(Struct, kw_only=True):
    id: UUID
    kind: Kind
    provider: Provider
    account_id: str
    status: Status
    reason: str
    ticket: str | None  # "zendesk:77": the one stored form
    payload: list[StepPayload]
    payload_hash: str
    computation: Computation | None
    approval: ApprovalRead
    steps: list[StepRead]
    requested_by: RequesterRead
    provider_events: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    error_code: str | None
    error_message: str | None
    ticket_display: str | None = None  # "zendesk #77", as screens show it


class CorrectionPage(Struct, kw_only=True):
    items: list[CorrectionRead]
    next_cursor: str | None


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    """Money inside a step's inputs (plain JSON, hashed as such)."""
    return {"amount_minor": int(amount_minor), "currency": currency.upper()}


def to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)
