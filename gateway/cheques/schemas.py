"""What offline payments (cheques) read and return: explicit structs, never ORM rows.

Money is {amount_minor, currency}: integer minor units of the currency's ISO 4217
exponent, the currency in capitals. A cheque is numbered by the gateway with its depositor's
initials (`OP-20261205-0007`); `reference` is the number printed on the cheque itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from msgspec import Meta, Struct

from gateway.corrections.schemas import Currency, MoneyRead, Provider, ProviderId, Reason
from gateway.edge.bodies import PRINTABLE, Strict

ChequeStatus = Literal["recording", "recorded", "bouncing", "bounced", "failed"]
BatchStatus = Literal["open", "closed"]
# A staff member's username, as the back office shows it.
Username = Annotated[str, Meta(min_length=1, max_length=150, pattern=r"^[A-Za-z0-9_.@+\-]+$")]
# The number printed on the cheque: letters, digits, spaces and dashes; a card number is refused.
ChequeReference = Annotated[
    str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-/]*$")
]
AmountMinor = Annotated[int, Meta(ge=1, le=10**13)]


class ChequeCreate(Strict, kw_only=True):
    """`POST /v1/cheques`: one cheque, against an open invoice or (no `invoice_id`) as a credit
    the account's next invoice uses."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "provider": "zuora",
        "account_id": "A-CHEQUE-EUR",
        "invoice_id": "INV00004711",
        "amount_minor": 12000,
        "currency": "EUR",
        "reference": "0001234",
        "depositor": "olga",
        "note": "Renewal, mailed with the signed order form.",
    }

    provider: Provider
    # The customer: the provider's account id or number (Zuora), or customer id (Stripe).
    account_id: ProviderId
    invoice_id: ProviderId | None = None  # the invoice's id or number; none: a credit
    amount_minor: AmountMinor
    currency: Currency
    reference: ChequeReference
    depositor: Username  # the operations member who deposits it: their initials number it
    note: Annotated[str, Meta(max_length=500, pattern=PRINTABLE)] | None = None


class BounceBody(Strict, kw_only=True):
    """`POST /v1/cheques/{id}/bounce`: why the bank returned it."""

    openapi_example: ClassVar[dict[str, Any]] = {"reason": "Returned by the bank: no funds."}

    reason: Reason


class BatchClose(Strict, kw_only=True):
    """`POST /v1/cheque-batches/{id}/close`: the scanner's total, and the second person who
    scanned. Equal to the batch's total: it closes; otherwise it stays open (409)."""

    openapi_example: ClassVar[dict[str, Any]] = {
        "scanner_total_minor": 362000,
        "closed_by": "omar",
        "scanned_at": "2026-12-05T16:30:00Z",
    }

    scanner_total_minor: Annotated[int, Meta(ge=0, le=10**15)]
    closed_by: Username  # an operations member or team lead who is not the depositor
    # When the scanner ran: cheques entered after it are listed when the totals differ.
    scanned_at: datetime | None = None


class ChequeRead(Struct, kw_only=True):
    id: UUID
    number: str  # the gateway's: depositor's initials, business date, sequence
    reference: str  # printed on the cheque
    status: ChequeStatus
    provider: Provider
    account_id: str
    account_name: str | None  # as the provider names the customer
    account_number: str | None  # Zuora's account number (A00000101); Stripe's id again
    invoice_id: str | None
    invoice_number: str | None
    credit: bool  # no invoice: a credit for the account's next invoice
    amount: MoneyRead
    business_date: date
    batch_id: UUID
    depositor: str  # username
    payment_number: str  # what the provider holds it under
    provider_payment_id: str | None
    # The invoice's status at the provider after the last write ("paid", "open", ...).
    invoice_status: str | None
    note: str | None
    entered_by: str  # "staff:olga" or "api_key:<client>"
    entered_at: datetime
    recorded_at: datetime | None
    bounced_at: datetime | None
    bounce_reason: str | None
    failure: str | None  # why recording failed, as a sentence


class ChequePage(Struct, kw_only=True):
    items: list[ChequeRead]
    next_cursor: str | None


class ScanRead(Struct, kw_only=True):
    scanner_total: MoneyRead
    batch_total: MoneyRead
    difference: MoneyRead  # batch total minus scanner total
    matched: bool
    by: str
    at: datetime
    scanned_at: datetime | None


class BatchRead(Struct, kw_only=True):
    id: UUID
    name: str  # "2026-12-05 EUR OP #1"
    business_date: date
    currency: str
    depositor: str
    depositor_initials: str
    sequence: int  # 1, 2, ... per day, currency and depositor
    status: BatchStatus
    cheque_count: int  # recorded or recording, not bounced or failed
    total: MoneyRead
    bounced_count: int
    last_scan: ScanRead | None
    closed_at: datetime | None
    closed_by: str | None
    created_at: datetime


class BatchPage(Struct, kw_only=True):
    items: list[BatchRead]
    next_cursor: str | None


class SlipRead(Struct, kw_only=True):
    """A closed batch's deposit slip: what goes to the bank with the cheques."""

    batch: BatchRead
    cheques: list[ChequeRead]


class DayReport(Struct, kw_only=True):
    """One business day and currency."""

    business_date: date
    currency: str
    cheque_count: int  # entered that day (bounced ones included)
    cheque_total: MoneyRead
    bounced_count: int  # bounced that day, whichever day they were entered
    bounced_total: MoneyRead
    batches_open: int
    batches_closed: int


class Report(Struct, kw_only=True):
    days: list[DayReport]  # newest day first, currencies in alphabetical order
    date_from: date
    date_to: date
