"""External payments in the emulator's tenant (a cheque, cash, a wire recorded by hand), with
Zuora's rules, over both faces: SOAP `create` and `update` of a Payment, REST `POST /v1/payments`
and `PUT /v1/payments/{key}/cancel`.

Creating one: a payment number no other payment has; a positive amount in the account's currency
(REST says the currency; SOAP's Payment has none: it is the account's); applied to one posted
invoice of the account, never beyond its balance, and/or to the account's credit balance (the two
parts add up to the amount). The payment is processed at once: the invoice's balance goes down,
an InvoicePayment records the part, the account's CreditBalance grows by the rest.

Cancelling one (Status Canceled): only a processed payment; the invoice's balance is due again
(Posted with a balance: open) and the credit it added is taken back, refused when that credit has
been used meanwhile. A tenant has payment methods of its own for payments made outside Zuora
(Check, Cash, ...), which belong to no account: `add_tenant_payment_methods` makes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.money import exponent_of
from adapters.zuora.emulator.rest_requests import PAYMENT, refuse_unknown_fields
from adapters.zuora.emulator.rest_shapes import Answer, as_json, money
from adapters.zuora.emulator.state import ZObject, ZuoraError, new_id, now_text

if TYPE_CHECKING:
    from adapters.zuora.emulator.state import Tenant

Route = Callable[..., Answer]
TENANT_METHOD_TYPES = ("Check", "Cash", "WireTransfer")


def add_tenant_payment_methods(tenant: Tenant) -> bool:
    """The tenant's own methods for external payments (Zuora makes them with every tenant);
    False when they are there already."""
    table = tenant.table("PaymentMethod")
    present = {m.get("Type") for m in table.values() if m.get("AccountId") is None}
    missing = [kind for kind in TENANT_METHOD_TYPES if kind not in present]
    for kind in missing:
        method_id = new_id()
        table[method_id] = {
            "Id": method_id,
            "AccountId": None,  # the tenant's: usable by every account
            "Type": kind,
            "PaymentMethodStatus": "Active",
            "Active": True,
            "CreatedDate": now_text(),
        }
    return bool(missing)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else 0))


def check_new_payment(tenant: Tenant, record: ZObject) -> None:
    """Zuora's refusals for a new external payment, which is then processed at once. (The
    seeds and payment runs make electronic payments complete: they are taken as they are.)"""
    if record.get("Type") != "External":
        return
    number = record.get("PaymentNumber")
    if number and any(p.get("PaymentNumber") == number for p in tenant.table("Payment").values()):
        raise ZuoraError(
            "DUPLICATE_VALUE",
            f"A payment with the payment number {number} already exists.",
            field_name="PaymentNumber",
        )
    account = tenant.table("Account").get(str(record.get("AccountId") or ""))
    if account is None:
        raise ZuoraError("INVALID_ID", f"invalid id for Account: {record.get('AccountId')}")
    method = tenant.table("PaymentMethod").get(str(record.get("PaymentMethodId") or ""))
    if method is None or method.get("AccountId") not in (None, account["Id"]):
        raise ZuoraError(
            "INVALID_VALUE",
            "The payment method is not valid for this account.",
            field_name="PaymentMethodId",
        )
    currency = str(account.get("Currency") or "EUR")
    amount = _decimal(record.get("Amount"))
    applied = _decimal(record.get("AppliedInvoiceAmount"))
    credit = _decimal(record.get("AppliedCreditBalanceAmount"))
    if amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-exponent_of(currency))):
        raise ZuoraError(
            "INVALID_VALUE",
            f"The payment amount must be positive, with at most the decimals {currency} allows.",
            field_name="Amount",
        )
    if applied < 0 or credit < 0 or applied + credit != amount:
        raise ZuoraError(
            "INVALID_VALUE",
            "The payment amount must equal the applied invoice amount plus the applied credit "
            "balance amount.",
            field_name="Amount",
        )
    if record.get("InvoiceId"):
        _check_invoice(tenant, account, str(record["InvoiceId"]), applied)
    elif applied:
        raise ZuoraError("MISSING_REQUIRED_VALUE", "An applied invoice amount needs an InvoiceId.")
    record.update(
        Status="Processed",
        RefundAmount="0",
        CreatedDate=now_text(),
        EffectiveDate=str(record.get("EffectiveDate") or date.today().isoformat())[:10],
    )


def _check_invoice(tenant: Tenant, account: ZObject, invoice_id: str, applied: Decimal) -> None:
    invoice = tenant.table("Invoice").get(invoice_id)
    if invoice is None or invoice.get("AccountId") != account["Id"]:
        raise ZuoraError(
            "INVALID_VALUE", f"The invoice {invoice_id} is not an invoice of this account."
        )
    if invoice.get("Status") != "Posted":
        raise ZuoraError(
            "INVALID_VALUE",
            f"The invoice {invoice.get('InvoiceNumber')} is {invoice.get('Status')}: a payment "
            "can only be applied to a posted invoice.",
            field_name="InvoiceId",
        )
    balance = _decimal(invoice.get("Balance", invoice.get("Amount")))
    if applied <= 0 or applied > balance:
        raise ZuoraError(
            "INVALID_VALUE",
            f"The applied amount {applied} must be positive and not more than the invoice's "
            f"balance {balance}.",
            field_name="AppliedInvoiceAmount",
        )


def apply_new_payment(tenant: Tenant, record: ZObject) -> None:
    """A new external payment (its Id set) paid its invoice and/or the credit balance."""
    if record.get("Type") != "External":
        return
    applied = _decimal(record.get("AppliedInvoiceAmount"))
    if record.get("InvoiceId") and applied:
        invoice = tenant.table("Invoice")[str(record["InvoiceId"])]
        _settle(invoice, -applied)
        link_id = new_id()
        tenant.table("InvoicePayment")[link_id] = {
            "Id": link_id,
            "InvoiceId": invoice["Id"],
            "PaymentId": record["Id"],
            "Amount": str(applied),
        }
    credit = _decimal(record.get("AppliedCreditBalanceAmount"))
    if credit:
        account = tenant.table("Account")[str(record["AccountId"])]
        account["CreditBalance"] = str(_decimal(account.get("CreditBalance")) + credit)


def _settle(invoice: ZObject, change: Decimal) -> None:
    """The invoice's balance changes by `change` (negative: paid), its payments the other way."""
    balance = _decimal(invoice.get("Balance", invoice.get("Amount")))
    invoice["Balance"] = str(balance + change)
    invoice["PaymentAmount"] = str(_decimal(invoice.get("PaymentAmount")) - change)


def cancel_payment(tenant: Tenant, payment: ZObject) -> None:
    """Status Canceled: what the payment paid is due again, the credit it added taken back."""
    status = payment.get("Status")
    if status == "Canceled":
        raise ZuoraError("INVALID_VALUE", "The payment is already canceled.")
    if status != "Processed":
        raise ZuoraError("INVALID_VALUE", f"A {status} payment cannot be canceled.")
    if _decimal(payment.get("RefundAmount")):
        raise ZuoraError("INVALID_VALUE", "A payment with refunds cannot be canceled.")
    credit = _decimal(payment.get("AppliedCreditBalanceAmount"))
    account = tenant.table("Account").get(str(payment.get("AccountId"))) or {}
    left = _decimal(account.get("CreditBalance"))
    if credit > left:
        raise ZuoraError(
            "INVALID_VALUE",
            f"The account's credit balance ({left}) is less than the {credit} this payment "
            "added: it has been used, and the payment cannot be canceled.",
        )
    if credit:
        account["CreditBalance"] = str(left - credit)
    for link in tenant.table("InvoicePayment").values():
        if link.get("PaymentId") == payment["Id"]:
            invoice = tenant.table("Invoice").get(str(link.get("InvoiceId")))
            if invoice is not None:
                _settle(invoice, _decimal(link.get("Amount")))
    payment["CancelledOn"] = now_text()


# -- REST -------------------------------------------------------------------------------------


def _find_payment(tenant: Tenant, key: str) -> ZObject:
    for payment in tenant.table("Payment").values():
        if key in (payment["Id"], payment.get("PaymentNumber")):
            return payment
    raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.")


def payment_json(tenant: Tenant, payment: ZObject) -> dict[str, Any]:
    """A payment as `GET /v1/payments/{key}` shows it."""
    account = tenant.table("Account").get(str(payment.get("AccountId"))) or {}
    applied = _decimal(payment.get("AppliedInvoiceAmount"))
    return {
        "id": payment["Id"],
        "number": payment.get("PaymentNumber"),
        "accountId": payment.get("AccountId"),
        "accountNumber": account.get("AccountNumber"),
        "amount": money(payment.get("Amount")),
        "appliedAmount": applied,
        "creditBalanceAmount": money(payment.get("AppliedCreditBalanceAmount")),
        "unappliedAmount": Decimal(0),
        "refundAmount": money(payment.get("RefundAmount")),
        "currency": account.get("Currency"),
        "effectiveDate": payment.get("EffectiveDate"),
        "referenceId": payment.get("ReferenceId"),
        "comment": payment.get("Comment"),
        "paymentMethodId": payment.get("PaymentMethodId"),
        "status": payment.get("Status"),
        "type": payment.get("Type"),
        "cancelledOn": payment.get("CancelledOn"),
        "createdDate": payment.get("CreatedDate"),
        "success": True,
    }


def payment_routes(tenant: Tenant) -> list[tuple[str, re.Pattern[str], Route]]:
    def create(*, payload: dict[str, Any], **_: Any) -> Answer:
        refuse_unknown_fields(payload, PAYMENT)
        if payload.get("type") != "External":
            raise ZuoraError("INVALID_VALUE", "Only external payments are emulated over REST.")
        key = payload.get("accountId") or payload.get("accountNumber")
        account = next(
            (
                a
                for a in tenant.table("Account").values()
                if key in (a["Id"], a.get("AccountNumber"))
            ),
            None,
        )
        if account is None:
            raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.")
        if str(payload.get("currency") or "") != account.get("Currency"):
            raise ZuoraError(
                "INVALID_VALUE",
                f"The currency {payload.get('currency')} is not the customer account's payment "
                f"currency {account.get('Currency')}.",
                field_name="currency",
            )
        invoices = payload.get("invoices") or []
        if len(invoices) > 1:
            raise ZuoraError("INVALID_VALUE", "The emulator applies a payment to one invoice.")
        amount = money(payload.get("amount"))
        applied = money(invoices[0].get("amount")) if invoices else Decimal(0)
        invoice_id = None
        if invoices:
            wanted = invoices[0].get("invoiceId") or invoices[0].get("invoiceNumber")
            invoice = next(
                (
                    i
                    for i in tenant.table("Invoice").values()
                    if wanted in (i["Id"], i.get("InvoiceNumber"))
                ),
                None,
            )
            if invoice is None:
                raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{wanted}'.")
            invoice_id = invoice["Id"]
        payment_id = tenant.create(
            "Payment",
            {
                "AccountId": account["Id"],
                "Amount": str(amount),
                "AppliedInvoiceAmount": str(applied),
                # Without Invoice Settlement, what no invoice takes goes to the credit balance.
                "AppliedCreditBalanceAmount": str(amount - applied),
                "InvoiceId": invoice_id,
                "PaymentMethodId": payload.get("paymentMethodId"),
                "PaymentNumber": payload.get("number"),
                "ReferenceId": payload.get("referenceId"),
                "Comment": payload.get("comment"),
                "EffectiveDate": payload.get("effectiveDate"),
                "Type": "External",
            },
        )
        return as_json(payment_json(tenant, tenant.table("Payment")[payment_id]), committed=True)

    def read(key: str, **_: Any) -> Answer:
        return as_json(payment_json(tenant, _find_payment(tenant, key)))

    def cancel(key: str, **_: Any) -> Answer:
        payment = _find_payment(tenant, key)
        tenant.update("Payment", {"Id": payment["Id"], "Status": "Canceled"})
        return as_json(payment_json(tenant, payment), committed=True)

    return [
        ("POST", re.compile(r"/v1/payments"), create),
        ("GET", re.compile(r"/v1/payments/([^/]+)"), read),
        ("PUT", re.compile(r"/v1/payments/([^/]+)/cancel"), cancel),
    ]
