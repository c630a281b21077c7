"""Invoices and the payments that settle them in the emulator, in the shape of Stripe's pinned
API version: an invoice names its subscription under `parent.subscription_details` and its
payments (InvoicePayment objects: a PaymentIntent, or a PaymentRecord of a payment made outside
Stripe, see `offline.py`) only when `payments` is expanded; a PaymentIntent's latest
charge carries what has been refunded (`amount_refunded`), how it was paid
(`payment_method_details`) and the receipt's address (`receipt_url`). The older top-level
`subscription`, `payment_intent` and `charge` of an invoice are kept for older clients.

Document addresses (`invoice_pdf`, `hosted_invoice_url`, `receipt_url`) are stored under
`EMULATOR_ORIGIN` and answered under the address the request reached the emulator at, so that
they stay right when the sandbox's emulator restarts on another port.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from adapters.stripe.emulator.amounts import refuse_amount_stripe_refuses
from adapters.stripe.emulator.state import StripeAccount, StripeObject

EMULATOR_ORIGIN = "http://stripe-emulator.invalid"
CARD_DETAILS = {"type": "card", "card": {"brand": "visa", "last4": "4242", "country": "US"}}
DUE_DAYS = 30


def invoice_pdf_url(invoice_id: str) -> str:
    return f"{EMULATOR_ORIGIN}/files/invoices/{invoice_id}.pdf"


def receipt_url(charge_id: str) -> str:
    return f"{EMULATOR_ORIGIN}/receipts/{charge_id}"


def with_origin(body: Any, origin: str) -> Any:
    """`body` with every stored document address moved to `origin` (a copy)."""
    if isinstance(body, str):
        return origin + body[len(EMULATOR_ORIGIN) :] if body.startswith(EMULATOR_ORIGIN) else body
    if isinstance(body, dict):
        return {key: with_origin(value, origin) for key, value in body.items()}
    if isinstance(body, list):
        return [with_origin(value, origin) for value in body]
    return body


def _invoice_prefix(customer_id: str) -> str:
    """Stripe's per-customer invoice prefix: eight capitals, stable for the customer."""
    digest = hashlib.sha256(customer_id.encode()).hexdigest().upper()
    return "".join(c for c in digest if c.isalpha())[:4] + digest[:4]


def next_number(account: StripeAccount, customer_id: str) -> str:
    numbered = [
        invoice
        for invoice in account.all("invoice")
        if invoice.get("customer") == customer_id and invoice.get("number")
    ]
    return f"{_invoice_prefix(customer_id)}-{len(numbered) + 1:04d}"


def invoice_fields(
    customer_id: str,
    subscription_id: str | None,
    lines: list[dict[str, Any]],
    status: str,
    currency: str,
) -> StripeObject:
    total = sum(int(line["amount"]) for line in lines)
    now = int(time.time())
    due = max(total, 0)
    return {
        "object": "invoice",
        "customer": customer_id,
        "subscription": subscription_id,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription_id},
        }
        if subscription_id
        else None,
        "status": status,
        "currency": currency.lower(),
        "subtotal": total,
        "total": total,
        "amount_due": due,
        "amount_paid": due if status == "paid" else 0,
        "amount_remaining": 0 if status == "paid" else due,
        "collection_method": "charge_automatically" if status == "paid" else "send_invoice",
        "due_date": None if status in ("paid", "draft") else now + DUE_DAYS * 86400,
        "status_transitions": {
            "finalized_at": None if status == "draft" else now,
            "paid_at": now if status == "paid" else None,
            "voided_at": None,
            "marked_uncollectible_at": None,
        },
        "lines": {"object": "list", "data": lines, "has_more": False},
    }


def pay(
    account: StripeAccount,
    customer_id: str,
    amount: int,
    currency: str,
    method_details: dict[str, Any] | None = None,
    description: str | None = None,
) -> tuple[StripeObject, StripeObject]:
    """A succeeded PaymentIntent and its charge (card ****4242 unless told otherwise)."""
    refuse_amount_stripe_refuses(amount, currency)
    details = method_details or CARD_DETAILS
    charge = account.new(
        "ch",
        "charge",
        {
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "refunded": False,
            "currency": currency.lower(),
            "customer": customer_id,
            "paid": True,
            "captured": True,
            "status": "succeeded",
            "payment_method_details": details,
            "description": description,
        },
    )
    charge["receipt_url"] = receipt_url(charge["id"])
    intent = account.new(
        "pi",
        "payment_intent",
        {
            "amount": amount,
            "amount_received": amount,
            "currency": currency.lower(),
            "customer": customer_id,
            "status": "succeeded",
            "latest_charge": charge["id"],
            "payment_method_types": [details["type"]],
            "payment_method": None,
            "metadata": {},
            "description": description,
        },
    )
    charge["payment_intent"] = intent["id"]
    return intent, charge


def create_invoice(
    account: StripeAccount,
    customer_id: str,
    subscription_id: str | None,
    lines: list[dict[str, Any]],
    status: str,
    currency: str,
    method_details: dict[str, Any] | None = None,
) -> StripeObject:
    """An invoice; a paid one with the payment that paid it."""
    fields = invoice_fields(customer_id, subscription_id, lines, status, currency)
    if status != "draft":
        fields["number"] = next_number(account, customer_id)
    else:
        fields["number"] = None
    invoice = account.new("in", "invoice", fields)
    invoice["hosted_invoice_url"] = f"{EMULATOR_ORIGIN}/invoices/{invoice['id']}"
    invoice["invoice_pdf"] = None if status == "draft" else invoice_pdf_url(invoice["id"])
    invoice["payment_intent"] = None
    invoice["_payments"] = []
    if status == "paid" and invoice["amount_due"] > 0:
        intent, charge = pay(
            account,
            customer_id,
            invoice["amount_due"],
            currency,
            method_details,
            f"Invoice {invoice['number']}",
        )
        invoice["payment_intent"] = intent["id"]
        invoice["charge"] = charge["id"]
        invoice["_payments"] = [intent["id"]]
    return invoice


def with_payments(account: StripeAccount, invoice: StripeObject) -> StripeObject:
    """The invoice with `payments` included (`expand[]=payments`), as InvoicePayments."""
    data = []
    for intent_id in invoice.get("_payments") or []:
        if intent_id.startswith("pr_"):  # a payment made outside Stripe (a PaymentRecord)
            data.append(_recorded_payment(account, invoice, intent_id))
            continue
        intent = account.objects.get(intent_id) or {}
        data.append(
            {
                "object": "invoice_payment",
                "id": f"inpay_{intent_id.removeprefix('pi_')}",
                "invoice": invoice["id"],
                "amount_paid": intent.get("amount_received", intent.get("amount")),
                "currency": invoice["currency"],
                "is_default": True,
                "status": "paid" if intent.get("status") == "succeeded" else "open",
                "payment": {"type": "payment_intent", "payment_intent": intent_id},
            }
        )
    listed = {"object": "list", "data": data, "has_more": False}
    return {**invoice, "payments": listed}


def _recorded_payment(
    account: StripeAccount, invoice: StripeObject, record_id: str
) -> StripeObject:
    """The InvoicePayment of a PaymentRecord attached with `attach_payment`."""
    record = account.objects.get(record_id) or {}
    amount = int((record.get("amount_guaranteed") or {}).get("value") or 0)
    return {
        "object": "invoice_payment",
        "id": f"inpay_{record_id.removeprefix('pr_')}",
        "invoice": invoice["id"],
        "amount_paid": amount,
        "amount_requested": amount,
        "currency": invoice["currency"],
        "is_default": False,
        "status": "paid",
        "payment": {"type": "payment_record", "payment_record": record_id},
    }
