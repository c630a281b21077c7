"""Amounts typed on the customer page's refund form become exact minor units by the currency's
ISO 4217 exponent; anything finer than the minor unit, or not plainly a number, is refused
with a sentence instead of being rounded."""

from __future__ import annotations

import pytest

from admin.customer_actions import minor_units
from gateway.core.errors import BillingError, ErrorCode


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12,5", "eur", 1250),
        ("2500", "EUR", 250000),
        ("0.01", "EUR", 1),
        ("15000", "JPY", 15000),
        ("12.345", "KWD", 12345),
        ("0.001", "BHD", 1),
        ("1 000.00", "EUR", 100000),  # a space typed as a thousands separator
    ],
)
def test_a_typed_amount_is_converted_exactly(typed: str, currency: str, minor: int) -> None:
    assert minor_units(typed, currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency", "sentence"),
    [
        ("10.005", "EUR", "EUR has 2 decimals"),
        ("15.5", "JPY", "JPY has 0 decimals"),
        ("12.3456", "KWD", "KWD has 3 decimals"),
        ("1,200.00", "EUR", "no thousands separators"),
        ("-5", "EUR", "digits only"),
        ("1e3", "EUR", "digits only"),
        ("0", "EUR", "above zero"),
        ("0.00", "EUR", "above zero"),
    ],
)
def test_an_amount_that_does_not_fit_is_refused(typed: str, currency: str, sentence: str) -> None:
    with pytest.raises(BillingError) as refused:
        minor_units(typed, currency)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert sentence in refused.value.detail
