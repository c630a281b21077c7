"""The period a Zuora subscription has paid for, and the prepaid rule (adapters/zuora/terms.py)."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.zuora.terms import ChargeTiming, Term, term_of

START, END = date(2026, 9, 5), date(2027, 9, 5)


def charge(period: str, timing: str = "In Advance") -> ChargeTiming:
    return ChargeTiming(period, timing, date(2026, 11, 25), date(2026, 12, 25))


@pytest.mark.parametrize(
    ("billing_period", "timing", "term_months", "prepaid"),
    [
        ("Annual", "In Advance", 12, True),  # the package paid up front
        ("Subscription Term", "IN_ADVANCE", 24, True),
        ("Two Years", "In Advance", 12, True),
        ("Month", "In Advance", 12, False),  # billed monthly on a yearly term
        ("Annual", "In Arrears", 12, False),  # billed after the fact
        ("Annual", "In Advance", 24, False),  # a second year still to bill
    ],
)
def test_a_termed_subscription_is_prepaid_when_one_charge_bills_the_whole_term_ahead(
    billing_period: str, timing: str, term_months: int, prepaid: bool
) -> None:
    term = term_of("TERMED", START, END, term_months, "Month", [charge(billing_period, timing)])
    assert term == Term(START, END, prepaid)


def test_a_term_in_years_counts_its_months() -> None:
    assert term_of("TERMED", START, END, 1, "Year", [charge("Annual")]).prepaid


def test_an_evergreen_subscription_s_period_is_what_its_charge_was_billed_for() -> None:
    term = term_of("EVERGREEN", START, None, None, None, [charge("Annual")])
    assert term == Term(date(2026, 11, 25), date(2026, 12, 25), False)
    assert term_of("EVERGREEN", START, None, None, None, []) == Term(None, None, False)
