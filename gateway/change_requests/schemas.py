"""Request and response bodies of /v1/change-requests: explicit structs, never ORM rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from gateway.change_requests.states import Kind, Status

# No control characters: they have no place in names or notes, and PostgreSQL refuses NUL.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def text(max_length: int, min_length: int = 1) -> Meta:
    return Meta(min_length=min_length, max_length=max_length, pattern=PRINTABLE)


Text100 = Annotated[str, text(100)]
Text200 = Annotated[str, text(200)]
TicketSystem = Literal["zendesk", "freshdesk", "hubspot", "intercom", "other"]
Target = Literal["zuora_collection", "stripe_customer_debit", "stripe_connect_payout"]
ConsentChannel = Literal["recorded_call", "written"]
# Character classes are spelled out (no \s): Python and JSON Schema disagree on what \s means.
_NO_SPACE = r"[^@\x00-\x20\x7f]+"
Email = Annotated[str, Meta(max_length=254, pattern=rf"^{_NO_SPACE}@{_NO_SPACE}\.{_NO_SPACE}$")]


class Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    """Unknown fields are refused: a typo must not pass silently."""


class TicketRef(Strict, kw_only=True):
    system: TicketSystem
    id: Text100
    url: Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\x00-\x20\x7f]+$")] | None = None


class CustomerRefs(Strict, kw_only=True):
    zuora_account_id: Text100 | None = None
    stripe_customer_id: Text100 | None = None
    stripe_connect_account_id: Text100 | None = None
    backoffice_id: Text100 | None = None
    company_name: Text200 | None = None


class Requester(Strict, kw_only=True):
    name: Text100
    email: Email | None = None
    agent_id: Text100 | None = None
    # The IP address the customer wrote from, as the ticket tool saw it: screened by fraud-stop.
    ip: Annotated[str, Meta(max_length=64, pattern=r"^[0-9A-Fa-f:.]+$")] | None = None


class IbanChangeDetails(Strict, kw_only=True):
    iban: Annotated[str, text(64)]
    account_holder: Annotated[str, text(140)]
    account_holder_email: Email | None = None
    bic: Annotated[str, Meta(min_length=8, max_length=11, pattern=r"^[A-Za-z0-9 ]+$")] | None = None
    targets: Annotated[list[Target], Meta(min_length=1, max_length=3)]


class PlanChangeDetails(Strict, kw_only=True):
    subscription_ref: Text100
    target_tier: Text100
    current_tier: Text100 | None = None
    committed: bool = False
    consent_channel: ConsentChannel
    contract_signed_on: date


ContactReasons = Annotated[list[Text200], Meta(max_length=10)]


class Filing(Strict, kw_only=True, tag_field="kind"):
    """What every change request carries; `kind` picks the payload."""

    ticket: TicketRef
    customer: CustomerRefs
    requester: Requester
    contact_reasons: ContactReasons = msgspec.field(default_factory=list)


class IbanChangeCreate(Filing, kw_only=True, tag="iban_change"):
    payload: IbanChangeDetails


class PlanChangeCreate(Filing, kw_only=True, tag="plan_change"):
    payload: PlanChangeDetails


ChangeRequestCreate = IbanChangeCreate | PlanChangeCreate


class ChangeRequestCancel(Strict, kw_only=True):
    reason: Annotated[str, text(500)]


class IbanChangeSummary(Struct, kw_only=True, tag="iban_change", tag_field="kind"):
    iban_masked: str
    iban_country: str
    bank_name: str | None
    bic: str | None
    account_holder: str
    account_holder_email: str | None
    targets: list[str]
    # The filing client's own open requests with this IBAN (it may read them anyway).
    other_requests_with_same_iban: list[UUID]
    # Another customer's open request has this IBAN: who, only staff see (the back office).
    iban_on_file_for_another_customer: bool = False


class TierSummary(Struct, kw_only=True):
    name: str
    min_seats: int
    max_seats: int
    monthly_price_minor: int
    currency: str


class PlanChangeSummary(Struct, kw_only=True, tag="plan_change", tag_field="kind"):
    subscription_ref: str
    current_tier: str | None
    target_tier: TierSummary
    direction: Literal["upgrade", "downgrade", "unknown"]
    committed: bool
    consent_channel: str
    contract_signed_on: date
    needs_new_contract: bool


class ChangeRequestRead(Struct, kw_only=True):
    id: UUID
    kind: Kind
    status: Status
    ticket: TicketRef
    customer: CustomerRefs
    requester: Requester
    contact_reasons: list[str]
    payload: IbanChangeSummary | PlanChangeSummary
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancellation_reason: str | None


class ChangeRequestPage(Struct, kw_only=True):
    items: list[ChangeRequestRead]
    next_cursor: str | None
