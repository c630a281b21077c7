"""The approval policy and the cancellation fee, in every currency exponent: amounts are
integers of the currency's minor unit and never pass through a float."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from adapters.money import exponent_of, from_minor_units, to_minor_units
from adapters.ports import Money
from gateway.corrections.policy import ApprovalPolicy, approval_needed, cancellation_refund
from settings.model import DEFAULT_REFUND_APPROVAL_ABOVE

POLICY = ApprovalPolicy(DEFAULT_REFUND_APPROVAL_ABOVE)


@pytest.mark.parametrize(
    ("currency", "threshold"),
    [("JPY", "100000"), ("EUR", "1000.00"), ("KWD", "1000.000"), ("USD", "1000.00")],
)
def test_a_refund_strictly_above_the_threshold_waits(currency: str, threshold: str) -> None:
    limit = to_minor_units(threshold, currency)
    at_limit = approval_needed(POLICY, "refund", [Money(limit, currency)])
    above = approval_needed(POLICY, "refund", [Money(limit + 1, currency)])
    assert not at_limit.required
    assert above.required
    # the rule names the threshold as people write it in that currency
    assert f"{from_minor_units(limit, currency)} {currency}" in above.rule


def test_the_threshold_is_per_currency_in_minor_units() -> None:
    # 1,000 JPY is 1000 minor units, 1,000 KWD is 1,000,000: both far from 100,000 EUR cents
    assert exponent_of("JPY") == 0 and exponent_of("KWD") == 3
    assert not approval_needed(POLICY, "refund", [Money(15_000, "JPY")]).required
    assert not approval_needed(POLICY, "refund", [Money(12_345, "KWD")]).required
    assert approval_needed(POLICY, "refund", [Money(250_000, "EUR")]).required


def test_refunds_of_one_correction_add_up() -> None:
    halves = [Money(60_000, "EUR"), Money(60_000, "EUR")]
    assert approval_needed(POLICY, "cancel_subscription", halves).required


def test_kinds_listed_as_always_wait_whatever_the_amount() -> None:
    always = ApprovalPolicy(DEFAULT_REFUND_APPROVAL_ABOVE, always=("void_invoice",))
    assert approval_needed(always, "void_invoice", []).required
    assert not approval_needed(always, "cancel_subscription", []).required
    assert not approval_needed(POLICY, "void_invoice", []).required


def test_the_demo_prepaid_package_keeps_a_30_percent_fee_on_the_unused_value() -> None:
    start = date(2026, 9, 5)
    computed = cancellation_refund(
        Money(120_000, "EUR"),
        120_000,
        start,
        start + timedelta(days=365),
        start + timedelta(days=91),
        Decimal(30),
        "unused_value",
    )
    assert (computed.days_total, computed.days_unused) == (365, 274)
    # 120000 * 274 / 365 = 90082.19... -> 90082; 30 % of it = 27024.6 -> 27025
    assert computed.unused_value == Money(90_082, "EUR")
    assert computed.fee == Money(27_025, "EUR")
    assert computed.refund == Money(63_057, "EUR")


@pytest.mark.parametrize(
    ("currency", "paid", "unused", "fee", "refund"),
    [
        # 3 of 4 days unused; 30 % fee
        ("JPY", 15_000, 11_250, 3_375, 7_875),
        ("EUR", 4_999, 3_749, 1_125, 2_624),  # 3749.25 -> 3749; 1124.7 -> 1125
        ("KWD", 12_345, 9_259, 2_778, 6_481),  # 9258.75 -> 9259; 2777.7 -> 2778
        ("CLF", 10_001, 7_501, 2_250, 5_251),  # four decimals: 7500.75 -> 7501; 2250.3 -> 2250
    ],
)
def test_the_fee_in_each_exponent(
    currency: str, paid: int, unused: int, fee: int, refund: int
) -> None:
    start = date(2026, 1, 1)
    computed = cancellation_refund(
        Money(paid, currency),
        paid,
        start,
        start + timedelta(days=4),
        start + timedelta(days=1),
        Decimal(30),
        "unused_value",
    )
    assert (computed.unused_value, computed.fee, computed.refund) == (
        Money(unused, currency),
        Money(fee, currency),
        Money(refund, currency),
    )
    assert all(isinstance(m.amount_minor, int) for m in (computed.fee, computed.refund))


def test_rounding_is_half_to_even() -> None:
    start = date(2026, 1, 1)
    # 5 * 1 / 2 = 2.5 -> 2 (even); 7 * 1 / 2 = 3.5 -> 4 (even)
    for paid, expected in ((5, 2), (7, 4)):
        computed = cancellation_refund(
            Money(paid, "JPY"),
            paid,
            start,
            start + timedelta(days=2),
            start + timedelta(days=1),
            Decimal(0),
            "unused_value",
        )
        assert computed.unused_value.amount_minor == expected


def test_a_fee_on_what_is_left_of_the_payment() -> None:
    start = date(2026, 1, 1)
    computed = cancellation_refund(
        Money(10_000, "EUR"),
        8_000,  # 20.00 EUR refunded already
        start,
        start + timedelta(days=10),
        start + timedelta(days=5),
        Decimal("12.5"),
        "remaining_payment",
    )
    assert computed.unused_value == Money(5_000, "EUR")
    assert computed.fee == Money(1_000, "EUR")  # 12.5 % of 8000
    assert computed.refund == Money(4_000, "EUR")


def test_nothing_unused_refunds_nothing_and_never_more_than_is_left() -> None:
    start = date(2026, 1, 1)
    end = start + timedelta(days=30)
    at_end = cancellation_refund(
        Money(3_000, "EUR"), 3_000, start, end, end, Decimal(30), "unused_value"
    )
    assert at_end.refund == Money(0, "EUR")
    capped = cancellation_refund(
        Money(3_000, "EUR"), 100, start, end, start, Decimal(0), "unused_value"
    )
    assert capped.refund == Money(100, "EUR")


def test_the_policy_settings_are_validated_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from settings.model import Settings

    monkeypatch.setenv("BG_CORRECTION_APPROVAL_REFUND_ABOVE", '{"jpy": 50000, "*": 20000}')
    monkeypatch.setenv("BG_CORRECTION_APPROVAL_ALWAYS", "void_invoice, refund")
    monkeypatch.setenv("BG_CANCELLATION_FEE_PERCENT", "12.5")
    settings = Settings()
    assert settings.correction_approval_refund_above == {"JPY": 50_000, "*": 20_000}
    assert settings.correction_approval_always == ("void_invoice", "refund")
    assert settings.cancellation_fee_percent == Decimal("12.5")
    for variable, value in (
        ("BG_CORRECTION_APPROVAL_REFUND_ABOVE", '{"EUR": 100}'),  # no "*"
        ("BG_CORRECTION_APPROVAL_REFUND_ABOVE", '{"EURO": 100, "*": 1}'),
        ("BG_CORRECTION_APPROVAL_ALWAYS", "refund_everything"),
        ("BG_CANCELLATION_FEE_PERCENT", "101"),
        ("BG_CANCELLATION_FEE_APPLIES_TO", "everything"),
    ):
        with monkeypatch.context() as patched:
            patched.setenv(variable, value)
            with pytest.raises(ValidationError):
                Settings()


def test_a_refund_is_rounded_down_to_the_providers_smallest_step() -> None:
    """Stripe takes KWD in steps of 0.010: the refund keeps back what falls between."""
    computed = cancellation_refund(
        Money(12_340, "KWD"),
        12_340,
        date(2026, 1, 1),
        date(2026, 1, 5),
        date(2026, 1, 2),
        Decimal(30),
        "unused_value",
        refund_step=10,
    )
    # 12340 * 3 / 4 = 9255; 30 % = 2776.5 -> 2776 (half to even); 9255 - 2776 = 6479 -> 6470
    assert computed.refund == Money(6_470, "KWD")
    assert computed.rounded_down == Money(9, "KWD")
    assert computed.fee.amount_minor + computed.refund.amount_minor + 9 == 9_255
