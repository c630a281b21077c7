"""The plan of a cancellation: the cancel first, then its follow-up (the last payment
refunded, the open invoice voided, or a prepaid package's unused value refunded minus the
cancellation fee). Pure; no I/O."""

from __future__ import annotations

from datetime import date

from adapters.ports import Invoice, Payment, Subscription
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.plan_parts import (
    CorrectionPlan,
    FeePolicy,
    PlannedStep,
    ProviderFacts,
    computation_json,
    not_found,
    refund_step,
    void_step,
)
from gateway.corrections.policy import CancellationRefund, cancellation_refund
from gateway.corrections.schemas import CancelCreate
from gateway.i18n import N_, Message

ACTIVE = frozenset({"active", "trialing", "past_due"})


def _effective_on(order: CancelCreate, subscription: Subscription, today: date) -> date:
    if order.when == "now":
        return today
    if order.when == "end_of_term":
        if subscription.current_period_end is None:
            raise BillingError(
                ErrorCode.CANCEL_DATE_INVALID,
                Message(
                    "{provider} does not say when this subscription's term ends: cancel it now "
                    "or on a date.",
                    provider=order.provider.capitalize(),
                ),
                extra={"field": "when"},
            )
        return max(subscription.current_period_end, today)
    if order.on is None or order.on < today:
        raise BillingError(
            ErrorCode.CANCEL_DATE_INVALID,
            Message("A cancellation on a date needs `on`, today or later (YYYY-MM-DD)."),
            extra={"field": "on"},
        )
    return order.on


def _payments_of(subscription: Subscription, facts: ProviderFacts) -> list[Payment]:
    """The subscription's payments, newest first: those paying its invoices; the customer's
    own when the provider links no invoice to a subscription."""
    invoices = [i for i in facts.invoices if i.subscription_id == subscription.id]
    if not invoices and all(i.subscription_id is None for i in facts.invoices):
        return list(facts.payments)
    invoice_ids = {i.id for i in invoices}
    paying = {pid for i in invoices for pid in i.payment_ids}
    return [p for p in facts.payments if p.id in paying or invoice_ids & set(p.invoice_ids)]


def _last_payment(subscription: Subscription, facts: ProviderFacts) -> Payment:
    for payment in _payments_of(subscription, facts):
        if payment.status == "succeeded" and facts.left_on(payment) > 0:
            return payment
    raise BillingError(
        ErrorCode.NOTHING_TO_REFUND,
        Message(
            "This subscription has no succeeded payment with anything left to refund; cancel it "
            "with `then: nothing`, or refund a payment of the customer's list."
        ),
    )


def cancellation_plan(order: CancelCreate, facts: ProviderFacts, fees: FeePolicy) -> CorrectionPlan:
    subscription = facts.subscription
    if subscription is None:
        raise not_found(order.provider, N_("subscription"), order.subscription_id)
    if subscription.status.lower() not in ACTIVE:
        raise BillingError(
            ErrorCode.SUBSCRIPTION_NOT_ACTIVE,
            Message(
                "This subscription is {status}, not active: there is nothing to cancel.",
                status=subscription.status,
            ),
            extra={"current_status": subscription.status},
        )
    effective_on = _effective_on(order, subscription, facts.today)
    steps = [
        PlannedStep(
            1,
            "cancel_subscription",
            {
                "subscription_id": subscription.id,
                "when": order.when,
                "effective_on": effective_on.isoformat(),
            },
            (subscription.id,),
        )
    ]
    computation = None
    if order.then == "refund_last_payment":
        payment = _last_payment(subscription, facts)
        steps.append(refund_step(2, payment, facts.left_on(payment)))
    elif order.then == "void_open_invoice":
        steps += [void_step(2 + n, i) for n, i in enumerate(_open_invoices(subscription, facts))]
    elif order.then == "refund_remaining":
        payment, computation = _remaining(subscription, facts, fees, effective_on)
        steps.append(refund_step(2, payment, computation.refund.amount_minor))
    return CorrectionPlan(
        "cancel_subscription",
        order.provider,
        subscription.account_id,
        subscription.id,
        tuple(steps),
        computation,
    )


def _open_invoices(subscription: Subscription, facts: ProviderFacts) -> list[Invoice]:
    mine = [i for i in facts.invoices if i.subscription_id == subscription.id]
    if not any(i.subscription_id for i in facts.invoices):
        mine = list(facts.invoices)  # the provider links no invoice to a subscription
    found = [i for i in mine if i.status == "open"]
    if not found:
        raise BillingError(
            ErrorCode.NO_OPEN_INVOICE,
            Message(
                "This subscription has no open invoice to void; cancel it with `then: nothing`, "
                "or refund its paid invoice's payment."
            ),
        )
    return found


def _remaining(
    subscription: Subscription, facts: ProviderFacts, fees: FeePolicy, cancelled_on: date
) -> tuple[Payment, CancellationRefund]:
    start, end = subscription.current_period_start, subscription.current_period_end
    if not subscription.prepaid or start is None or end is None or end <= start:
        raise BillingError(
            ErrorCode.NOTHING_TO_REFUND,
            Message(
                "Only a subscription paid in advance for its period (a prepaid package) has an "
                "unused part to refund; cancel this one with `then: refund_last_payment` or "
                "`nothing`."
            ),
        )
    payment = _last_payment(subscription, facts)
    computation = cancellation_refund(
        payment.amount,
        facts.left_on(payment),
        start,
        end,
        cancelled_on,
        fees.percent,
        fees.applies_to,
        facts.amount_step(payment.amount.currency),
    )
    if computation.refund.amount_minor <= 0:
        raise BillingError(
            ErrorCode.NOTHING_TO_REFUND,
            Message(
                "Cancelled on {day}, {unused} of {total} days are unused: after the {fee} % fee "
                "nothing is left to refund.",
                day=cancelled_on.isoformat(),
                unused=computation.days_unused,
                total=computation.days_total,
                fee=computation.fee_percent,
            ),
            extra={"computation": computation_json(computation)},
        )
    return payment, computation
