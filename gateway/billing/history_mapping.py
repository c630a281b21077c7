"""Provider-neutral invoices, payments and refunds as /v1/customers/.../invoices and /payments
show them: pure functions, so the answer's shape is tested without a provider."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from adapters.money import format_money
from adapters.ports import Account, Invoice, Money, Payment, RefundResult
from gateway.billing.history_schemas import (
    Amount,
    CustomerRef,
    InvoiceOut,
    PaymentOut,
    RefundOut,
)
from gateway.core.sensitive import redact_text

_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def amount(money: Money) -> Amount:
    currency = money.currency.upper()  # ISO 4217 codes are upper case; Stripe writes "eur"
    return Amount(
        amount_minor=money.amount_minor,
        currency=currency,
        display=format_money(money.amount_minor, currency),
    )


def invoice_pdf_path(provider: str, invoice_id: str) -> str:
    return f"/v1/invoices/{quote(provider, safe='')}/{quote(invoice_id, safe='')}/pdf"


def receipt_path(provider: str, payment_id: str) -> str:
    return f"/v1/payments/{quote(provider, safe='')}/{quote(payment_id, safe='')}/receipt"


def attachment(stem: str, extension: str) -> str:
    """A Content-Disposition naming the file after `stem` (an invoice number), reduced to
    characters every mail client and file system takes."""
    safe = _UNSAFE_IN_FILENAME.sub("-", stem).strip("-.") or "document"
    return f'attachment; filename="{safe[:80]}.{extension}"'


def customer_ref(provider: str, account: Account) -> CustomerRef:
    return CustomerRef(
        provider=provider, account_id=account.id, account_number=account.number, name=account.name
    )


def invoice_out(provider: str, invoice: Invoice, *, pdfs: bool) -> InvoiceOut:
    """`pdfs`: whether the provider's adapter hands out invoice PDFs at all."""
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        status=invoice.status,
        total=amount(invoice.total),
        balance=amount(invoice.balance),
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        subscription_id=invoice.subscription_id,
        payment_ids=list(invoice.payment_ids),
        pdf=invoice_pdf_path(provider, invoice.id) if pdfs and invoice.has_pdf else None,
    )


def refunds_by_payment(refunds: Iterable[RefundResult]) -> dict[str, list[RefundResult]]:
    grouped: dict[str, list[RefundResult]] = defaultdict(list)
    for refund in refunds:
        if refund.payment_id is not None:
            grouped[refund.payment_id].append(refund)
    return grouped


def masked(method: str | None) -> str | None:
    """The adapter's masked method, masked again: a card number or IBAN never gets out even
    if an adapter let one through."""
    return redact_text(method) if method is not None else None


def payment_out(
    provider: str, payment: Payment, refunds: Sequence[RefundResult], *, receipts: bool
) -> PaymentOut:
    """`refunds`: this payment's; `receipts`: whether the provider's adapter has receipts."""
    return PaymentOut(
        id=payment.id,
        status=payment.status,
        amount=amount(payment.amount),
        refunded=amount(payment.refunded),
        refundable=amount(payment.refundable),
        created_at=payment.created_at,
        invoice_ids=list(payment.invoice_ids),
        method_masked=masked(payment.method_masked),
        receipt=receipt_path(provider, payment.id) if receipts and payment.has_receipt else None,
        refunds=[
            RefundOut(
                id=refund.id,
                amount=amount(refund.amount),
                status=refund.status,
                created_at=refund.created_at,
            )
            for refund in refunds
        ],
    )
