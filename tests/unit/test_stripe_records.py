"""Stripe's billing objects read in both shapes the adapter meets: the pinned version's (period on
the items, an invoice's subscription under `parent`, its payments as InvoicePayments) and the
older one (period on the subscription, `subscription` and `payment_intent` on the invoice)."""

from __future__ import annotations

from datetime import date

from adapters.ports import Money
from adapters.stripe.records import (
    from_stripe_invoice,
    from_stripe_payment,
    from_stripe_subscription,
)

DAY = 86400
JAN_1 = 1767225600  # 2026-01-01T00:00:00Z


def _subscription(**fields: object) -> dict[str, object]:
    item: dict[str, object] = {
        "id": "si_1",
        "quantity": 1,
        "price": {"unit_amount": 120000, "currency": "eur", "recurring": {"interval": "year"}},
    }
    item.update(fields.pop("item", {}))  # type: ignore[call-overload]
    return {
        "id": "sub_1",
        "customer": "cus_1",
        "status": "active",
        "items": {"data": [item]},
        **fields,
    }


def test_the_period_is_read_from_the_items_then_from_the_subscription() -> None:
    current = from_stripe_subscription(
        _subscription(
            item={"current_period_start": JAN_1, "current_period_end": JAN_1 + 365 * DAY},
            metadata={"prepaid": "true"},
        )
    )
    assert (current.current_period_start, current.current_period_end) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
    )
    assert current.prepaid and current.charges[0].billing_period == "Year"
    older = from_stripe_subscription(
        _subscription(current_period_start=JAN_1, current_period_end=JAN_1 + 30 * DAY)
    )
    assert older.current_period_end == date(2026, 1, 31) and not older.prepaid
    assert from_stripe_subscription(_subscription()).current_period_start is None


def test_an_invoice_names_its_subscription_and_payments_in_either_shape() -> None:
    base = {"id": "in_1", "customer": "cus_1", "currency": "jpy", "total": 15000}
    current = from_stripe_invoice(
        {
            **base,
            "status": "paid",
            "amount_remaining": 0,
            "parent": {"subscription_details": {"subscription": "sub_1"}},
            "payments": {
                "data": [
                    {"status": "paid", "payment": {"payment_intent": "pi_1"}},
                    {"status": "canceled", "payment": {"payment_intent": "pi_0"}},
                ]
            },
        }
    )
    assert (current.subscription_id, current.payment_ids) == ("sub_1", ("pi_1",))
    assert current.total == Money(15000, "JPY") and not current.has_pdf
    older = from_stripe_invoice(
        {**base, "status": "open", "amount_remaining": 15000, "subscription": "sub_2",
         "payment_intent": "pi_2"}
    )  # fmt: skip
    assert (older.subscription_id, older.payment_ids) == ("sub_2", ("pi_2",))
    assert older.balance == Money(15000, "JPY")
    voided = from_stripe_invoice({**base, "status": "void", "amount_remaining": 15000})
    assert voided.balance == Money(0, "JPY")


def test_a_failed_attempt_reads_as_failed_and_the_method_stays_masked() -> None:
    intent = {
        "id": "pi_1",
        "customer": "cus_1",
        "amount": 12345,
        "currency": "kwd",
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined"},
        "created": JAN_1,
    }
    charge = {
        "amount": 12345,
        "status": "failed",
        "payment_method_details": {
            "type": "sepa_debit",
            "sepa_debit": {"country": "DE", "last4": "3000"},
        },
    }
    payment = from_stripe_payment(intent, charge)
    assert payment.status == "failed" and payment.refundable == Money(0, "KWD")
    assert payment.method_masked == "DE****3000" and not payment.has_receipt
