"""The plan of a correction: which provider calls, in which order, on what amounts. Pure: the
order and a fresh reading of the provider in, ordered steps and the payload hash out; no I/O.

The payload is what the approver sees and what runs; its hash (sha256 of the canonical JSON of
kind, provider, account and steps with their amounts) binds an approval to it.
"""

from __future__ import annotations

from adapters.money import format_money
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.plan_cancel import cancellation_plan
from gateway.corrections.plan_parts import (
    CorrectionPlan,
    FeePolicy,
    PlannedStep,
    ProviderFacts,
    canonical_json,
    computation_json,
    not_found,
    payload_hash,
    refund_step,
    refundable,
    void_step,
)
from gateway.corrections.schemas import CancelCreate, RefundCreate, VoidCreate, money
from gateway.i18n import N_, Message
from gateway.i18n.values import AmountText, status_text

__all__ = [
    "CorrectionPlan",
    "FeePolicy",
    "Order",
    "PlannedStep",
    "ProviderFacts",
    "build_plan",
    "canonical_json",
    "computation_json",
    "payload_hash",
    "step_key",
]

Order = RefundCreate | CancelCreate | VoidCreate


def step_key(correction_id: object, provider: str, operation: str, position: int) -> str:
    """The step's idempotency key: the same on every repeat, so a provider never acts twice."""
    return f"bg:corr:{correction_id}:{provider}:{operation}:{position}"


def build_plan(order: Order, facts: ProviderFacts, fees: FeePolicy) -> CorrectionPlan:
    if isinstance(order, RefundCreate):
        return _refund(order, facts)
    if isinstance(order, VoidCreate):
        return _void(order, facts)
    return cancellation_plan(order, facts, fees)


def _refund(order: RefundCreate, facts: ProviderFacts) -> CorrectionPlan:
    payment = facts.payment
    if payment is None:
        raise not_found(order.provider, N_("payment"), order.payment_id)
    currency = payment.amount.currency.upper()
    if order.currency is not None and order.currency.upper() != currency:
        raise BillingError(
            ErrorCode.CURRENCY_MISMATCH,
            Message(
                "This payment is in {currency}, not {asked}: refund it in {currency}, in minor "
                "units of {currency}.",
                currency=currency,
                asked=order.currency.upper(),
            ),
            extra={"field": "currency"},
        )
    left = refundable(payment, facts)
    amount = left if order.amount_minor is None else order.amount_minor
    if amount > left:
        paid = AmountText(payment.amount.amount_minor, currency)
        refunded = AmountText(payment.refunded.amount_minor, currency)
        pending = Message(", more on its way") if facts.reserved.get(payment.id) else ""
        raise BillingError(
            ErrorCode.REFUND_EXCEEDS_PAYMENT,
            Message(
                "At most {left} is left to refund on this payment (paid {paid}, refunded "
                "{refunded}{pending}); {asked} was asked.",
                left=AmountText(left, currency),
                paid=paid,
                refunded=refunded,
                pending=pending,
                asked=AmountText(amount, currency),
            ),
            extra={"refundable": money(left, currency)},
        )
    step = facts.amount_step(currency)
    if amount % step:
        lower = amount - amount % step
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message(
                "{provider} refunds {currency} in steps of {step}: refund {lower} or {higher} "
                "instead of {asked}.",
                provider=order.provider.capitalize(),
                currency=currency,
                step=format_money(step, currency),
                lower=format_money(lower, currency),
                higher=format_money(lower + step, currency),
                asked=format_money(amount, currency),
            ),
            extra={"field": "amount_minor"},
        )
    return CorrectionPlan(
        "refund",
        order.provider,
        payment.account_id,
        payment.id,
        (refund_step(1, payment, amount),),
    )


def _void(order: VoidCreate, facts: ProviderFacts) -> CorrectionPlan:
    invoice = facts.invoice
    if invoice is None:
        raise not_found(order.provider, N_("invoice"), order.invoice_id)
    if invoice.status != "open":
        raise BillingError(
            ErrorCode.INVOICE_NOT_OPEN,
            Message(
                "Only an open invoice can be voided; this one is {status} (refund its payment "
                "instead).",
                status=status_text(invoice.status),
            )
            if invoice.status == "paid"
            else Message(
                "Only an open invoice can be voided; this one is {status}.",
                status=status_text(invoice.status),
            ),
            extra={"current_status": invoice.status},
        )
    return CorrectionPlan(
        "void_invoice",
        order.provider,
        invoice.account_id,
        invoice.id,
        (void_step(1, invoice),),
    )
