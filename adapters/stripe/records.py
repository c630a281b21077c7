"""Stripe's billing objects as the neutral values of `adapters.ports`: subscriptions (with the
period paid for), invoices, payments (a PaymentIntent and its latest charge) and refunds.
Amounts arrive in Stripe's units and leave as ISO 4217 minor units (`adapters.stripe.units`:
ISK, UGX and MGA differ).

Where the pinned API version (2026-10-28.endive, after 2025-03-31.basil) moved a field, the new
place is read first and the old one after, for older accounts and localstripe: a subscription's
period is on its items, an invoice's subscription under `parent.subscription_details`, its
payments in `payments` (InvoicePayments, when expanded) rather than `payment_intent`.

A subscription is `prepaid` when its metadata says `prepaid=true`: a package sold for a term and
paid up front, which a cancellation refunds in part (minus the fee). Every Stripe subscription
bills at the start of its period, so the interval alone cannot tell a package from a plan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adapters.ports import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    RecurringCharge,
    RefundResult,
    Subscription,
)
from adapters.stripe.mapping import plain
from adapters.stripe.units import from_stripe_amount

INVOICE_STATUSES: tuple[InvoiceStatus, ...] = ("draft", "open", "paid", "void", "uncollectible")


def _day(timestamp: Any) -> date | None:
    return datetime.fromtimestamp(int(timestamp), UTC).date() if timestamp else None


def _moment(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


def _id(value: Any) -> str | None:
    """An expandable field: the id, whether Stripe sent the id or the object."""
    if isinstance(value, dict):
        return str(value["id"]) if value.get("id") else None
    return str(value) if value else None


def _plan_as_price(plan: dict[str, Any]) -> dict[str, Any]:
    """A legacy Plan (older accounts, localstripe) read as the Price that replaced it."""
    return {
        "product": plan.get("product"),
        "nickname": plan.get("nickname"),
        "unit_amount": plan.get("amount"),
        "currency": plan.get("currency", "eur"),
        "recurring": {"interval": plan.get("interval", "month")},
    }


def from_stripe_subscription(stripe_subscription: Any) -> Subscription:
    subscription = plain(stripe_subscription)
    charges = []
    items = subscription["items"]["data"]
    for item in items:
        price = item.get("price") or _plan_as_price(item.get("plan") or {})
        interval = (price.get("recurring") or {}).get("interval", "month")
        charges.append(
            RecurringCharge(
                id=str(item["id"]),
                name=str(price.get("nickname") or price.get("product")),
                quantity=int(item.get("quantity") or 0),
                unit_price=from_stripe_amount(
                    int(price.get("unit_amount") or 0), str(price["currency"])
                ),
                billing_period="Month" if interval == "month" else interval.capitalize(),
            )
        )
    # On the items since 2025-03-31.basil (they share one period), on the subscription before.
    period = items[0] if items and items[0].get("current_period_end") else subscription
    metadata = subscription.get("metadata") or {}
    return Subscription(
        id=str(subscription["id"]),
        account_id=str(subscription["customer"]),
        status=str(subscription["status"]),
        version=1,  # Stripe keeps one version of a subscription
        charges=tuple(charges),
        current_period_start=_day(period.get("current_period_start")),
        current_period_end=_day(period.get("current_period_end")),
        prepaid=str(metadata.get("prepaid", "")).lower() == "true",
    )


def from_stripe_refund(stripe_refund: Any) -> RefundResult:
    refund = plain(stripe_refund)
    return RefundResult(
        id=str(refund["id"]),
        amount=from_stripe_amount(int(refund["amount"]), str(refund["currency"])),
        status=str(refund["status"]),
        payment_id=_id(refund.get("payment_intent")),
        created_at=_moment(refund.get("created")),
    )


def invoice_payment_ids(invoice: dict[str, Any]) -> tuple[str, ...]:
    """The PaymentIntents that paid the invoice: its InvoicePayments, or the older field."""
    payments = (invoice.get("payments") or {}).get("data") or []
    found = [
        _id((payment.get("payment") or {}).get("payment_intent"))
        for payment in payments
        if payment.get("status") == "paid"
    ]
    if not payments and invoice.get("payment_intent"):
        found = [_id(invoice["payment_intent"])]
    return tuple(payment_id for payment_id in found if payment_id)


def _invoice_status(status: str) -> InvoiceStatus:
    for known in INVOICE_STATUSES:
        if status == known:
            return known
    return "open"  # a status newer than the adapter: finalized, not settled


def from_stripe_invoice(stripe_invoice: Any) -> Invoice:
    invoice = plain(stripe_invoice)
    currency = str(invoice["currency"]).upper()
    status = str(invoice.get("status") or "draft")
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    transitions = invoice.get("status_transitions") or {}
    remaining = invoice.get("amount_remaining")
    if status in ("void", "paid"):
        remaining = 0  # nothing is due on it any more, whatever Stripe keeps in the field
    return Invoice(
        id=str(invoice["id"]),
        number=invoice.get("number"),
        account_id=str(_id(invoice.get("customer"))),
        status=_invoice_status(status),
        total=from_stripe_amount(int(invoice.get("total") or 0), currency),
        balance=from_stripe_amount(int(remaining if remaining is not None else 0), currency),
        issued_on=_day(transitions.get("finalized_at") or invoice.get("created")),
        due_on=_day(invoice.get("due_date")),
        subscription_id=_id(parent.get("subscription") or invoice.get("subscription")),
        payment_ids=invoice_payment_ids(invoice),
        has_pdf=bool(invoice.get("invoice_pdf")),
    )


def _payment_status(intent: dict[str, Any], charge: dict[str, Any]) -> PaymentStatus:
    status = str(intent.get("status"))
    if status in ("succeeded", "processing", "canceled"):
        return status  # type: ignore[return-value]
    if intent.get("last_payment_error") or charge.get("status") == "failed":
        return "failed"  # Stripe asks for another payment method after a failed attempt
    return "processing"  # confirmed, waiting for the customer or a capture


def masked_method(charge: dict[str, Any]) -> str | None:
    """ "card ****4242", "DE****3000": what the charge says of how it was paid, no more."""
    details = charge.get("payment_method_details") or {}
    kind = details.get("type")
    shown = (details.get(kind) if isinstance(kind, str) else None) or {}
    if kind == "card" and shown.get("last4"):
        return f"card ****{shown['last4']}"
    if kind == "sepa_debit" and shown.get("last4"):
        return f"{shown.get('country') or '??'}****{shown['last4']}"
    return None


def from_stripe_payment(
    stripe_intent: Any, charge: dict[str, Any], invoice_ids: tuple[str, ...] = ()
) -> Payment:
    """A PaymentIntent with its latest charge (what was refunded, how it was paid)."""
    intent = plain(stripe_intent)
    currency = str(intent["currency"]).upper()
    return Payment(
        id=str(intent["id"]),
        account_id=str(_id(intent.get("customer"))),
        amount=from_stripe_amount(int(charge.get("amount") or intent["amount"]), currency),
        refunded=from_stripe_amount(int(charge.get("amount_refunded") or 0), currency),
        status=_payment_status(intent, charge),
        created_at=_moment(intent.get("created")),
        invoice_ids=invoice_ids,
        method_masked=masked_method(charge),
        has_receipt=bool(charge.get("receipt_url")),
    )
