"""What /v1/customers/{provider}/{ref}/invoices and /payments answer: what a support tool needs
to pick the invoice or payment to correct. Money in minor units (with a `display` for people),
payment methods masked, dates ISO."""

from __future__ import annotations

from datetime import date, datetime

from msgspec import Struct

from adapters.ports import InvoiceStatus, PaymentStatus


class Amount(Struct, kw_only=True):
    amount_minor: int  # by the currency's ISO 4217 exponent: 15000 JPY, 12345 KWD = 12.345
    currency: str
    display: str  # "12.345 KWD", for people; compute with amount_minor


class InvoiceOut(Struct, kw_only=True):
    id: str
    number: str | None
    status: InvoiceStatus
    total: Amount
    balance: Amount  # still due
    issued_on: date | None
    due_on: date | None
    subscription_id: str | None
    payment_ids: list[str]
    pdf: str | None  # the gateway path that streams its PDF; None where there is none


class RefundOut(Struct, kw_only=True):
    id: str
    amount: Amount
    status: str  # pending, succeeded, failed, canceled
    created_at: datetime | None


class PaymentOut(Struct, kw_only=True):
    id: str
    status: PaymentStatus
    amount: Amount
    refunded: Amount  # refunded so far
    refundable: Amount  # what a refund may still take back (0 unless succeeded)
    created_at: datetime | None
    invoice_ids: list[str]
    method_masked: str | None  # "card ****4242", "FR****0189": never more
    receipt: str | None  # the gateway path that streams its receipt; None where there is none
    refunds: list[RefundOut]


class CustomerRef(Struct, kw_only=True):
    provider: str
    account_id: str
    account_number: str
    name: str


class InvoiceList(Struct, kw_only=True):
    customer: CustomerRef
    invoices: list[InvoiceOut]  # newest first


class PaymentList(Struct, kw_only=True):
    customer: CustomerRef
    payments: list[PaymentOut]  # newest first
