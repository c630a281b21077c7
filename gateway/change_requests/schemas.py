"""Request and response bodies of /v1/change-requests: explicit structs, never ORM rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from gateway.change_requests.outcomes import (
    FulfilmentOutcome,
    Resolution,
    ReviewOutcome,
    StaffName,
)
from gateway.change_requests.states import Kind, Status
from gateway.edge.bodies import PRINTABLE, Strict, text
from gateway.fulfilment_schemas import Checks, FulfilmentRead, PlanPreview

Text100 = Annotated[str, text(100)]
Text200 = Annotated[str, text(200)]
TicketSystem = Literal["zendesk", "freshdesk", "hubspot", "intercom", "other"]
Target = Literal["zuora_collection", "stripe_customer_debit", "stripe_connect_payout"]
ConsentChannel = Literal["recorded_call", "written"]
# Character classes are spelled out (no \s): Python and JSON Schema disagree on what \s means.
_NO_SPACE = r"[^@\x00-\x20\x7f]+"
Email = Annotated[str, Meta(max_length=254, pattern=rf"^{_NO_SPACE}@{_NO_SPACE}\.{_NO_SPACE}$")]


TicketUrl = Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\x00-\x20\x7f]+$")]
# The ticket in any spelling: "zendesk:1001", "zendesk #1001", "Zendesk 1001" (stored as
# "zendesk:1001", gateway/tickets.py).
TicketText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=300,
        pattern=PRINTABLE,
        description='The ticket as system and id in any spelling ("zendesk #1001"); stored and '
        'answered as "zendesk:1001".',
        examples=["zendesk:1001"],
    ),
]


class TicketRef(Strict, kw_only=True):
    """The ticket as its system and id (the id may be "1001", "#1001" or "zendesk #1001")."""

    system: TicketSystem
    id: Text100
    url: TicketUrl | None = None


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
    # The holder's address, as the bank has it: required for IBANs of SEPA countries outside
    # the EEA (GB, CH, MC, SM, VA, AD, GI), whose debits carry it (SEPA rulebook; Stripe).
    account_holder_address: IdentityAddress | None = None


class PlanChangeDetails(Strict, kw_only=True):
    subscription_ref: Text100
    target_tier: Text100
    current_tier: Text100 | None = None
    committed: bool = False
    consent_channel: ConsentChannel
    contract_signed_on: date


ContactReasons = Annotated[list[Text200], Meta(max_length=10)]
IdDocument = Literal["passport", "national_id_card", "driving_licence", "residence_permit"]


class IdentityAddress(Strict, kw_only=True):
    line1: Text200
    line2: Text200 | None = None
    city: Text100
    postal_code: Annotated[str, text(20)]
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]


class IdentityChecked(Strict, kw_only=True):
    """Which facts the agent verified with the customer (the runbooks' customer verification),
    as the customer gave them: the gateway compares them with the providers' records. For a
    Connect partner's payout account, also the ID document seen and the date of a proof of
    address (under 3 months old)."""

    name: Text200 | None = None
    email: Email | None = None
    postal_address: IdentityAddress | None = None
    id_document: IdDocument | None = None
    proof_of_address_dated: date | None = None


class Filing(Strict, kw_only=True, tag_field="kind"):
    """What every change request carries; `kind` picks the payload. The ticket is given as
    `{"system", "id", "url"}` or as one text in any spelling ("zendesk #1001"), its URL then
    in `ticket_url`."""

    ticket: TicketText | TicketRef
    ticket_url: TicketUrl | None = None
    customer: CustomerRefs
    requester: Requester
    contact_reasons: ContactReasons = msgspec.field(default_factory=list)
    identity: IdentityChecked | None = None


class IbanChangeCreate(Filing, kw_only=True, tag="iban_change"):
    # Convention 2 of gateway/edge/openapi.py: masked, so a real IBAN goes where it is shown.
    openapi_example: ClassVar[dict[str, Any]] = {
        "kind": "iban_change",
        "ticket": "zendesk:1001",
        "ticket_url": "https://acme.zendesk.com/agent/tickets/1001",
        "customer": {"zuora_account_id": "A00012345", "company_name": "Hoffmann Logistik GmbH"},
        "requester": {"name": "Lena Hoffmann", "email": "lena.hoffmann@hoffmann-logistik.example"},
        "contact_reasons": ["Billing > Payment method > Bank details change"],
        "payload": {
            "iban": "DE** **** **** **** **30 00",
            "account_holder": "Hoffmann Logistik GmbH",
            "targets": ["zuora_collection"],
        },
    }
    payload: IbanChangeDetails


class PlanChangeCreate(Filing, kw_only=True, tag="plan_change"):
    openapi_example: ClassVar[dict[str, Any]] = {
        "kind": "plan_change",
        "ticket": "zendesk:1002",
        "customer": {"zuora_account_id": "A00012345"},
        "requester": {"name": "Lena Hoffmann", "agent_id": "zd-agent-17"},
        "contact_reasons": ["Account > Subscription > Upsell"],
        "payload": {
            "subscription_ref": "A-S00004211",
            "current_tier": "team",
            "target_tier": "business",
            "consent_channel": "written",
            "contract_signed_on": "2025-03-01",
        },
    }
    payload: PlanChangeDetails


ChangeRequestCreate = IbanChangeCreate | PlanChangeCreate


class ChangeRequestCancel(Strict, kw_only=True):
    openapi_example: ClassVar[dict[str, Any]] = {
        "reason": "The customer wrote back: they keep their current bank account."
    }
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
    account_holder_address: IdentityAddress | None = None


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
    ticket: Annotated[str, Meta(examples=["zendesk:1001"])]  # the one stored form, system:id
    ticket_display: Annotated[str, Meta(examples=["zendesk #1001"])]  # as screens show it
    ticket_url: str | None
    customer: CustomerRefs
    requester: Requester
    contact_reasons: list[str]
    payload: IbanChangeSummary | PlanChangeSummary
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancellation_reason: str | None
    # Apply (gateway/fulfilment): the live pre-checks, the plan change's price preview, and
    # every run with its steps (on GET of one request and on Apply's answer).
    checks: Checks | None = None
    preview: PlanPreview | None = None
    fulfilment: FulfilmentRead | None = None
    # What a support tool answers the customer with (on GET of one request): who has it, how
    # it was resolved, the review and the providers' outcome (gateway/change_requests/outcomes).
    assignee: StaffName | None = None
    resolution: Resolution | None = None
    review: ReviewOutcome | None = None
    outcome: FulfilmentOutcome | None = None


class ChangeRequestPage(Struct, kw_only=True):
    items: list[ChangeRequestRead]
    next_cursor: str | None
