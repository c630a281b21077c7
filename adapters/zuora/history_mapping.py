"""Zuora's invoices, payments and refunds (ZOQL records, over SOAP or REST) as the neutral values of
`adapters.ports`: money in the account currency's minor units, statuses in the gateway's words,
payment methods masked.

Statuses. An invoice: Draft -> "draft"; Posted with a balance -> "open", Posted with nothing
left to pay -> "paid"; Canceled -> "void". A payment: Processed -> "succeeded", Processing (a
debit with the bank) or Draft -> "processing", Error -> "failed", Canceled -> "canceled". A
refund: Processed -> "succeeded", Processing -> "pending", Error -> "failed", Canceled ->
"canceled".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from adapters.money import to_minor_units
from adapters.ports import (
    Invoice,
    InvoiceStatus,
    Money,
    OfflinePayment,
    Payment,
    PaymentStatus,
    RefundResult,
)

INVOICE_FIELDS = "Id, AccountId, InvoiceNumber, Amount, Balance, Status, InvoiceDate, DueDate"
PAYMENT_FIELDS = (
    "Id, AccountId, Amount, RefundAmount, Status, PaymentMethodId, EffectiveDate, CreatedDate"
)
REFUND_FIELDS = "Id, AccountId, PaymentId, Amount, Status, RefundDate, CreatedDate"
OFFLINE_PAYMENT_FIELDS = "Id, AccountId, Amount, Status, Type, PaymentNumber, ReferenceId"
METHOD_FIELDS = "Id, Type, CreditCardMaskNumber, BankTransferAccountNumberMask, Country"

_PAYMENT_STATUS: dict[str, PaymentStatus] = {
    "Processed": "succeeded",
    "Posted": "succeeded",  # older tenants' word for a processed payment
    "Processing": "processing",
    "Draft": "processing",
    "Error": "failed",
    "Canceled": "canceled",
}
_REFUND_STATUS = {
    "Processed": "succeeded",
    "Processing": "pending",
    "Error": "failed",
    "Canceled": "canceled",
}


def field(record: Any, name: str) -> Any:
    """One field of a ZOQL record: a dict over REST, a zObject over SOAP; None when absent."""
    return record.get(name) if isinstance(record, dict) else getattr(record, name, None)


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    text = str(value).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        day = as_date(text)
        return None if day is None else datetime.combine(day, time(), UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def minor(value: Any, currency: str) -> int:
    return to_minor_units(Decimal(str(value or 0)), currency)


def invoice_status(status: str, balance_minor: int) -> InvoiceStatus:
    if status == "Canceled":
        return "void"
    if status == "Posted":
        return "open" if balance_minor > 0 else "paid"
    return "draft"


def payment_status(status: str) -> PaymentStatus:
    return _PAYMENT_STATUS.get(status, "processing")


def refund_status(status: str) -> str:
    return _REFUND_STATUS.get(status, "pending")


def masked_method(record: Any) -> str | None:
    """ "card ****4242" or "FR****0189": the last four and no more."""
    card = str(field(record, "CreditCardMaskNumber") or "")
    if field(record, "Type") in ("CreditCard", "DebitCard") and card:
        return f"card ****{card[-4:]}"
    bank = str(field(record, "BankTransferAccountNumberMask") or "")
    if bank:
        country = str(field(record, "Country") or "??")[:2].upper()
        return f"{country}****{bank[-4:]}"
    return None


def to_invoice(
    record: Any, currency: str, subscription_id: str | None, payment_ids: tuple[str, ...]
) -> Invoice:
    total = minor(field(record, "Amount"), currency)
    raw_balance = field(record, "Balance")
    balance = total if raw_balance is None else minor(raw_balance, currency)
    status = invoice_status(str(field(record, "Status") or "Draft"), balance)
    if status == "void":
        balance = 0
    return Invoice(
        id=str(field(record, "Id")),
        number=field(record, "InvoiceNumber"),
        account_id=str(field(record, "AccountId")),
        status=status,
        total=Money(total, currency),
        balance=Money(balance, currency),
        issued_on=as_date(field(record, "InvoiceDate")),
        due_on=as_date(field(record, "DueDate")),
        subscription_id=subscription_id,
        payment_ids=payment_ids,
        has_pdf=True,
    )


def to_payment(
    record: Any, currency: str, invoice_ids: tuple[str, ...], method_masked: str | None
) -> Payment:
    created = as_datetime(field(record, "CreatedDate")) or as_datetime(
        field(record, "EffectiveDate")
    )
    return Payment(
        id=str(field(record, "Id")),
        account_id=str(field(record, "AccountId")),
        amount=Money(minor(field(record, "Amount"), currency), currency),
        refunded=Money(minor(field(record, "RefundAmount"), currency), currency),
        status=payment_status(str(field(record, "Status") or "")),
        created_at=created,
        invoice_ids=invoice_ids,
        method_masked=method_masked,
        has_receipt=False,  # Zuora renders no receipt for a payment
    )


def to_offline_payment(
    record: Any, currency: str, invoice_id: str | None, invoice_state: InvoiceStatus | None
) -> OfflinePayment:
    """An external payment (a cheque) as the port names it: a canceled one is reversed."""
    return OfflinePayment(
        id=str(field(record, "Id")),
        account_id=str(field(record, "AccountId")),
        payment_number=str(field(record, "PaymentNumber") or ""),
        reference=str(field(record, "ReferenceId") or ""),
        amount=Money(minor(field(record, "Amount"), currency), currency),
        invoice_id=invoice_id,
        status="reversed" if field(record, "Status") == "Canceled" else "recorded",
        invoice_status=invoice_state,
    )


def to_refund(record: Any, currency: str) -> RefundResult:
    created = as_datetime(field(record, "CreatedDate")) or as_datetime(field(record, "RefundDate"))
    return RefundResult(
        id=str(field(record, "Id")),
        amount=Money(minor(field(record, "Amount"), currency), currency),
        status=refund_status(str(field(record, "Status") or "")),
        payment_id=field(record, "PaymentId"),
        created_at=created,
    )


def newest_first(records: list[Any], *date_fields: str) -> list[Any]:
    """ZOQL has no ORDER BY: newest first by the first date field present, then by id."""

    def key(record: Any) -> tuple[datetime, str]:
        for name in date_fields:
            moment = as_datetime(field(record, name))
            if moment is not None:
                return moment, str(field(record, "Id"))
        return datetime.min.replace(tzinfo=UTC), str(field(record, "Id"))

    return sorted(records, key=key, reverse=True)
