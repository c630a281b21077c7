"""The cheque pages' typed amounts and scanner totals: exact in the currency's minor units, a
finer amount or a word refused with a sentence, never rounded; and the report's chart keeps one
bar per day with what a screen reader says about it."""

from __future__ import annotations

from datetime import date

import pytest

from admin.cheque_chart import charts
from admin.cheque_forms import amount_minor
from gateway.cheques.schemas import DayReport
from gateway.core.errors import BillingError
from gateway.corrections.schemas import MoneyRead


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [("120.5", "EUR", 12050), ("120,50", "EUR", 12050), ("15000", "JPY", 15000),
     ("1.250", "KWD", 1250), ("1 200.00", "USD", 120000)],
)  # fmt: skip
def test_an_amount_is_read_exactly_in_the_currency(typed: str, currency: str, minor: int) -> None:
    assert amount_minor(typed, currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency", "sentence"),
    [("12.3456", "EUR", "EUR has 2 decimals"), ("150.5", "JPY", "JPY has 0 decimals"),
     ("twelve", "EUR", "digits only"), ("0.00", "EUR", "above zero"),
     ("", "EUR", "Type the amount")],
)  # fmt: skip
def test_an_amount_that_is_not_exact_is_refused_with_a_sentence(
    typed: str, currency: str, sentence: str
) -> None:
    with pytest.raises(BillingError) as refused:
        amount_minor(typed, currency)
    assert sentence in refused.value.detail


def test_a_scanner_total_may_be_zero() -> None:
    assert amount_minor("0", "EUR", zero_allowed=True) == 0


def test_the_chart_has_a_bar_per_day_and_says_what_each_holds() -> None:
    day = DayReport(
        business_date=date(2026, 12, 5),
        currency="EUR",
        cheque_count=2,
        cheque_total=MoneyRead(amount_minor=16900, currency="EUR"),
        bounced_count=1,
        bounced_total=MoneyRead(amount_minor=12000, currency="EUR"),
        batches_open=0,
        batches_closed=1,
    )
    [chart] = charts([day], date(2026, 11, 6), date(2026, 12, 5))
    assert len(chart.bars) == 30 and chart.title == "Cheques in EUR, Nov 6, 2026 to Dec 5, 2026"
    assert chart.bars[-1].label == "Dec 5, 2026: 2 cheques, €169.00; bounced €120.00"
    assert chart.bars[-1].height > chart.bounced[-1].height > 0 == chart.bars[0].height
    assert chart.top_label == "€169.00"
