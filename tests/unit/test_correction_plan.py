"""The plan of a correction from a fresh reading of the provider: the steps, their amounts,
the refusals a support agent can act on, and a hash that changes with anything that runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.ports import Invoice, Money, Payment, Subscription
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.plan import FeePolicy, ProviderFacts, build_plan, step_key
from gateway.corrections.schemas import CancelCreate, RefundCreate, VoidCreate

TODAY = date(2026, 12, 5)
FEES = FeePolicy(Decimal(30), "unused_value")


def payment(
    amount: int = 4_900, refunded: int = 0, status: str = "succeeded", pid: str = "pay_1"
) -> Payment:
    return Payment(
        id=pid,
        account_id="acct_1",
        amount=Money(amount, "EUR"),
        refunded=Money(refunded, "EUR"),
        status=status,  # type: ignore[arg-type]
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        invoice_ids=("inv_paid",),
    )


def invoice(status: str = "open", iid: str = "inv_open", sub: str | None = "sub_1") -> Invoice:
    return Invoice(
        id=iid,
        number="INV-1",
        account_id="acct_1",
        status=status,  # type: ignore[arg-type]
        total=Money(12_000, "EUR"),
        balance=Money(12_000 if status == "open" else 0, "EUR"),
        issued_on=TODAY,
        due_on=TODAY,
        subscription_id=sub,
    )


def subscription(status: str = "active", prepaid: bool = False) -> Subscription:
    start = TODAY - timedelta(days=91)
    return Subscription(
        id="sub_1",
        account_id="acct_1",
        status=status,
        version=1,
        charges=(),
        current_period_start=start,
        current_period_end=start + timedelta(days=365),
        prepaid=prepaid,
    )


def refund(amount: int | None = None, currency: str | None = None) -> RefundCreate:
    return RefundCreate(
        provider="stripe", payment_id="pay_1", amount_minor=amount, currency=currency, reason="x"
    )


def cancel(then: str = "nothing", when: str = "now", on: date | None = None) -> CancelCreate:
    return CancelCreate(
        provider="zuora",
        subscription_id="sub_1",
        when=when,  # type: ignore[arg-type]
        on=on,
        then=then,  # type: ignore[arg-type]
        reason="wrong plan",
    )


def refused(order: object, facts: ProviderFacts) -> BillingError:
    with pytest.raises(BillingError) as caught:
        build_plan(order, facts, FEES)  # type: ignore[arg-type]
    return caught.value


def test_a_refund_without_an_amount_refunds_all_that_is_left() -> None:
    plan = build_plan(refund(), ProviderFacts(TODAY, payment=payment(refunded=900)), FEES)
    assert plan.payload == [
        {
            "position": 1,
            "operation": "refund_payment",
            "inputs": {"payment_id": "pay_1", "amount": {"amount_minor": 4_000, "currency": "EUR"}},
        }
    ]
    assert (plan.kind, plan.account_id) == ("refund", "acct_1")


def test_an_over_refund_names_what_is_left() -> None:
    error = refused(refund(4_001), ProviderFacts(TODAY, payment=payment(refunded=900)))
    assert error.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert "40.00 EUR" in error.detail
    assert error.extra["refundable"] == {"amount_minor": 4_000, "currency": "EUR"}


def test_what_other_unfinished_corrections_refund_is_not_left() -> None:
    facts = ProviderFacts(TODAY, payment=payment(), reserved={"pay_1": 4_000})
    error = refused(refund(1_000), facts)
    assert error.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert error.extra["refundable"]["amount_minor"] == 900


@pytest.mark.parametrize(
    ("found", "code"),
    [
        (payment(status="failed"), ErrorCode.PAYMENT_NOT_REFUNDABLE),
        (payment(refunded=4_900), ErrorCode.PAYMENT_NOT_REFUNDABLE),
        (None, ErrorCode.PROVIDER_NOT_FOUND),
    ],
)
def test_refusals_of_a_refund(found: Payment | None, code: ErrorCode) -> None:
    assert refused(refund(), ProviderFacts(TODAY, payment=found)).code is code


def test_a_refund_in_another_currency_is_refused() -> None:
    error = refused(refund(100, "usd"), ProviderFacts(TODAY, payment=payment()))
    assert error.code is ErrorCode.CURRENCY_MISMATCH and "EUR" in error.detail


def test_only_an_open_invoice_is_voided() -> None:
    order = VoidCreate(provider="stripe", invoice_id="inv_open", reason="x")
    plan = build_plan(order, ProviderFacts(TODAY, invoice=invoice()), FEES)
    assert [s.operation for s in plan.steps] == ["void_invoice"]
    error = refused(order, ProviderFacts(TODAY, invoice=invoice(status="paid")))
    assert error.code is ErrorCode.INVOICE_NOT_OPEN and "refund" in error.detail


def test_wrong_plan_paid_by_card_is_cancelled_then_its_payment_refunded() -> None:
    facts = ProviderFacts(
        TODAY,
        subscription=subscription(),
        payments=(payment(),),
        invoices=(invoice(status="paid", iid="inv_paid"),),
    )
    plan = build_plan(cancel("refund_last_payment"), facts, FEES)
    assert [(s.operation, s.position) for s in plan.steps] == [
        ("cancel_subscription", 1),
        ("refund_payment", 2),
    ]
    assert plan.steps[0].inputs["effective_on"] == TODAY.isoformat()
    assert plan.steps[1].inputs["amount"] == {"amount_minor": 4_900, "currency": "EUR"}


def test_wrong_plan_invoiced_is_cancelled_then_its_invoice_voided() -> None:
    facts = ProviderFacts(
        TODAY, subscription=subscription(), invoices=(invoice(), invoice("open", "other", "sub_9"))
    )
    plan = build_plan(cancel("void_open_invoice"), facts, FEES)
    assert [s.operation for s in plan.steps] == ["cancel_subscription", "void_invoice"]
    assert plan.steps[1].inputs["invoice_id"] == "inv_open"  # not another subscription's


def test_follow_ups_with_nothing_to_act_on_are_refused() -> None:
    bare = ProviderFacts(TODAY, subscription=subscription())
    assert refused(cancel("refund_last_payment"), bare).code is ErrorCode.NOTHING_TO_REFUND
    assert refused(cancel("void_open_invoice"), bare).code is ErrorCode.NO_OPEN_INVOICE
    ended = ProviderFacts(TODAY, subscription=subscription(status="cancelled"))
    assert refused(cancel(), ended).code is ErrorCode.SUBSCRIPTION_NOT_ACTIVE


def test_a_prepaid_package_refunds_the_unused_value_minus_the_fee() -> None:
    facts = ProviderFacts(
        TODAY,
        subscription=subscription(prepaid=True),
        payments=(payment(amount=120_000),),
        invoices=(invoice(status="paid", iid="inv_paid"),),
    )
    plan = build_plan(cancel("refund_remaining"), facts, FEES)
    assert plan.computation is not None
    assert plan.computation.refund == Money(63_057, "EUR")
    assert plan.steps[1].inputs["amount"]["amount_minor"] == 63_057
    not_prepaid = ProviderFacts(TODAY, subscription=subscription(), payments=(payment(),))
    assert refused(cancel("refund_remaining"), not_prepaid).code is ErrorCode.NOTHING_TO_REFUND


def test_cancelling_at_the_end_of_the_term_or_on_a_date() -> None:
    facts = ProviderFacts(TODAY, subscription=subscription())
    end = build_plan(cancel(when="end_of_term"), facts, FEES)
    assert end.steps[0].inputs["effective_on"] == (TODAY + timedelta(days=274)).isoformat()
    later = TODAY + timedelta(days=10)
    dated = build_plan(cancel(when="on_date", on=later), facts, FEES)
    assert dated.steps[0].inputs["effective_on"] == later.isoformat()
    past = refused(cancel(when="on_date", on=TODAY - timedelta(days=1)), facts)
    assert past.code is ErrorCode.CANCEL_DATE_INVALID


def test_the_hash_changes_with_any_amount_and_only_with_what_runs() -> None:
    one = build_plan(refund(1_000), ProviderFacts(TODAY, payment=payment()), FEES)
    same = build_plan(
        RefundCreate(
            provider="stripe", payment_id="pay_1", amount_minor=1_000, reason="other", ticket="t"
        ),
        ProviderFacts(TODAY, payment=payment()),
        FEES,
    )
    other = build_plan(refund(1_001), ProviderFacts(TODAY, payment=payment()), FEES)
    assert one.payload_hash == same.payload_hash  # the reason is not part of what runs
    assert one.payload_hash != other.payload_hash
    assert len(one.payload_hash) == 64


def test_step_keys_are_stable_per_correction_and_step() -> None:
    assert step_key("c1", "stripe", "refund_payment", 2) == "bg:corr:c1:stripe:refund_payment:2"


def test_a_typed_refund_must_be_an_amount_the_provider_takes() -> None:
    """A provider with a coarser smallest amount (Stripe, KWD: 0.010) refuses others: the
    filing says which amounts it takes, before anything is stored."""
    facts = ProviderFacts(TODAY, payment=payment(amount=4_900), amount_step=lambda _: 10)
    error = refused(refund(1_235), facts)
    assert error.code is ErrorCode.VALIDATION_FAILED
    assert "in steps of 0.10 EUR: refund 12.30 EUR or 12.40 EUR" in error.detail
    assert build_plan(refund(1_230), facts, FEES).refunds() == [Money(1_230, "EUR")]
