"""The pieces a correction's plan is made of: its steps, the provider facts it is made from,
and the payload hash that binds an approval to exactly what runs. Pure; no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.money import format_money
from adapters.ports import Invoice, Money, Payment, Subscription
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.policy import CancellationRefund, FeeBase
from gateway.corrections.schemas import money
from gateway.i18n import Message


@dataclass(frozen=True)
class PlannedStep:
    position: int
    operation: str
    inputs: dict[str, Any]  # provider ids, ISO dates, money as {amount_minor, currency}
    object_ids: tuple[str, ...]  # the provider objects it acts on
    # A refund: what the provider had left to refund on the payment when it was read (not
    # shown nor hashed: the filing checks it again against refunds filed meanwhile).
    refundable_minor: int | None = None

    def shown(self) -> dict[str, Any]:
        return {"position": self.position, "operation": self.operation, "inputs": self.inputs}


@dataclass(frozen=True)
class CorrectionPlan:
    kind: str
    provider: str
    account_id: str
    object_id: str
    steps: tuple[PlannedStep, ...]
    computation: CancellationRefund | None = None

    @property
    def payload(self) -> list[dict[str, Any]]:
        return [step.shown() for step in self.steps]

    @property
    def payload_hash(self) -> str:
        return payload_hash(self.kind, self.provider, self.account_id, self.payload)

    def refunds(self) -> list[Money]:
        return [
            Money(int(s.inputs["amount"]["amount_minor"]), str(s.inputs["amount"]["currency"]))
            for s in self.steps
            if s.operation == "refund_payment"
        ]


@dataclass(frozen=True)
class FeePolicy:
    percent: Decimal
    applies_to: FeeBase


def _any_amount(currency: str) -> int:
    return 1


@dataclass(frozen=True)
class ProviderFacts:
    """What the provider holds right now, read for this order."""

    today: date
    payment: Payment | None = None  # a refund's payment
    invoice: Invoice | None = None  # a void's invoice
    subscription: Subscription | None = None  # a cancellation's subscription
    payments: Sequence[Payment] = ()  # the customer's, newest first
    invoices: Sequence[Invoice] = ()  # the customer's, newest first
    # Minor units other unfinished corrections will refund, by payment id: not left any more.
    reserved: Mapping[str, int] = field(default_factory=dict)
    # The smallest amount the provider refunds in a currency, in minor units (Stripe: 10 for
    # KWD): a computed refund is rounded down to it, a typed one must be a multiple of it.
    amount_step: Callable[[str], int] = _any_amount

    def left_on(self, payment: Payment) -> int:
        return max(payment.refundable.amount_minor - self.reserved.get(payment.id, 0), 0)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(kind: str, provider: str, account_id: str, steps: Sequence[Any]) -> str:
    body = {"kind": kind, "provider": provider, "account_id": account_id, "steps": list(steps)}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def not_found(provider: str, what: str, object_id: str) -> BillingError:
    return BillingError(
        ErrorCode.PROVIDER_NOT_FOUND,
        Message(
            "{provider} has no {what} {id}; check the id against the customer's list.",
            provider=provider.capitalize(),
            what=Message(what),
            id=object_id,
        ),
        extra={"provider": provider},
    )


def refund_step(position: int, payment: Payment, amount_minor: int) -> PlannedStep:
    return PlannedStep(
        position,
        "refund_payment",
        {"payment_id": payment.id, "amount": money(amount_minor, payment.amount.currency)},
        (payment.id,),
        payment.refundable.amount_minor,
    )


def refundable(payment: Payment, facts: ProviderFacts) -> int:
    left = facts.left_on(payment)
    currency = payment.amount.currency
    if payment.status != "succeeded" or left <= 0:
        paid = format_money(payment.amount.amount_minor, currency)
        refunded = format_money(payment.refunded.amount_minor, currency)
        why = (
            Message("it is {status}", status=payment.status)
            if payment.status != "succeeded"
            else Message("nothing is left to refund on it")
        )
        raise BillingError(
            ErrorCode.PAYMENT_NOT_REFUNDABLE,
            Message(
                "This payment cannot be refunded: {why} (paid {paid}, refunded {refunded}).",
                why=why,
                paid=paid,
                refunded=refunded,
            ),
            extra={"refundable": money(left, currency), "current_status": payment.status},
        )
    return left


def void_step(position: int, invoice: Invoice) -> PlannedStep:
    return PlannedStep(
        position,
        "void_invoice",
        {
            "invoice_id": invoice.id,
            "number": invoice.number,
            "total": money(invoice.total.amount_minor, invoice.total.currency),
            "balance": money(invoice.balance.amount_minor, invoice.balance.currency),
        },
        (invoice.id,),
    )


def computation_json(computation: CancellationRefund) -> dict[str, Any]:
    def m(value: Money) -> dict[str, Any]:
        return money(value.amount_minor, value.currency)

    return {
        "payment_amount": m(computation.payment_amount),
        "period_start": computation.period_start.isoformat(),
        "period_end": computation.period_end.isoformat(),
        "cancelled_on": computation.cancelled_on.isoformat(),
        "days_total": computation.days_total,
        "days_unused": computation.days_unused,
        "unused_value": m(computation.unused_value),
        "fee_percent": str(computation.fee_percent),
        "fee_applies_to": computation.fee_applies_to,
        "fee": m(computation.fee),
        "refund": m(computation.refund),
        "rounded_down": m(computation.rounded_down),
    }
