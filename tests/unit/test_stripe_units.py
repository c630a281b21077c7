"""Stripe's amount units against ISO 4217 minor units: the same amount both ways for yen, euros,
dinars, krónur and ariary, and the amounts Stripe would refuse refused with a sentence a support
agent can act on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.money import UnknownCurrencyError
from adapters.ports import Money
from adapters.stripe.units import (
    check_stripe_amount,
    from_stripe_amount,
    to_stripe_amount,
)
from gateway.core.errors import BillingError, ErrorCode


@pytest.mark.parametrize(
    ("stripe_amount", "currency", "iso"),
    [
        (15000, "jpy", Money(15000, "JPY")),  # zero-decimal in both
        (4900, "eur", Money(4900, "EUR")),  # 49.00 EUR in both
        (12340, "kwd", Money(12340, "KWD")),  # 12.340 KWD in both
        (50000, "isk", Money(500, "ISK")),  # Stripe: two decimals; ISO: none
        (50000, "ugx", Money(500, "UGX")),  # the same special case
        (5, "mga", Money(500, "MGA")),  # Stripe: zero-decimal; ISO: two decimals
        (1050, "huf", Money(1050, "HUF")),  # two decimals for charges in both
        (0, "isk", Money(0, "ISK")),
    ],
)
def test_the_same_amount_both_ways(stripe_amount: int, currency: str, iso: Money) -> None:
    assert from_stripe_amount(stripe_amount, currency) == iso
    assert to_stripe_amount(iso) == stripe_amount


# The smallest step, in ISO minor units, of an amount Stripe takes in each currency.
STEPS = {"JPY": 1, "EUR": 1, "KWD": 10, "BHD": 10, "ISK": 1, "UGX": 1, "MGA": 100, "CLP": 1}


@given(st.sampled_from(sorted(STEPS)), st.integers(min_value=0, max_value=10**15))
def test_what_is_sent_reads_back_as_itself(currency: str, steps: int) -> None:
    money = Money(steps * STEPS[currency], currency)
    assert from_stripe_amount(to_stripe_amount(money), currency) == money


def test_an_old_fractional_krona_amount_reads_rounded_half_to_even() -> None:
    """Stripe took hundredths of a króna before 2023-04-14; such a charge reads in whole
    krónur, half to even, in integers (no float on the way)."""
    assert [from_stripe_amount(a, "ISK").amount_minor for a in (149, 150, 250, 251)] == [
        1,
        2,
        2,
        3,
    ]


def test_a_dinar_amount_not_ending_in_zero_is_refused_with_the_amounts_stripe_takes() -> None:
    with pytest.raises(BillingError) as refused:
        to_stripe_amount(Money(12345, "KWD"), action="refund")
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert refused.value.extra == {"field": "amount_minor"}
    assert refused.value.detail == (
        "Stripe takes KWD amounts in steps of 0.010 KWD: refund 12.340 or 12.350 KWD "
        "instead of 12.345 KWD."
    )


@pytest.mark.parametrize("currency", ["BHD", "JOD", "KWD", "OMR", "TND"])
def test_every_three_decimal_currency_stripe_takes_needs_a_last_digit_of_zero(
    currency: str,
) -> None:
    assert to_stripe_amount(Money(1230, currency)) == 1230
    with pytest.raises(BillingError):
        check_stripe_amount(Money(1231, currency))


def test_fractions_of_an_ariary_cannot_be_sent() -> None:
    with pytest.raises(BillingError) as refused:
        to_stripe_amount(Money(550, "MGA"))
    assert refused.value.detail == (
        "Stripe takes MGA amounts in steps of 1.00 MGA: charge 5.00 or 6.00 MGA "
        "instead of 5.50 MGA."
    )


def test_whole_kronur_and_other_currencies_are_never_refused() -> None:
    for money in (Money(7, "ISK"), Money(7, "UGX"), Money(7, "JPY"), Money(7, "EUR")):
        check_stripe_amount(money)


def test_a_currency_that_is_not_iso_4217_is_not_money() -> None:
    with pytest.raises(UnknownCurrencyError):
        from_stripe_amount(100, "xyz")
