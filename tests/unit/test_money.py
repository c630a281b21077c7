"""Minor units by each currency's ISO 4217 exponent, exact both ways, never through a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.money import (
    UnknownCurrencyError,
    exponent_of,
    format_money,
    from_minor_units,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("EUR", 2),
        ("USD", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_each_currency_has_its_iso_exponent(currency: str, exponent: int) -> None:
    assert exponent_of(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("15000", "JPY", 15000),
        (15000, "JPY", 15000),
        ("49.00", "EUR", 4900),
        ("12.345", "KWD", 12345),
        ("0.005", "BHD", 5),
        ("1.2345", "CLF", 12345),
        ("-10.00", "EUR", -1000),
    ],
)
def test_decimal_amounts_become_minor_units(amount: object, currency: str, minor: int) -> None:
    assert to_minor_units(amount, currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (15000, "JPY", "15000"),
        (4900, "EUR", "49.00"),
        (12345, "KWD", "12.345"),
        (5, "OMR", "0.005"),
        (12345, "CLF", "1.2345"),
        (0, "EUR", "0.00"),
        (-1, "BHD", "-0.001"),
    ],
)
def test_minor_units_become_the_exact_decimal_a_provider_expects(
    minor: int, currency: str, shown: str
) -> None:
    amount = from_minor_units(minor, currency)
    assert isinstance(amount, Decimal) and str(amount) == shown
    assert to_minor_units(amount, currency) == minor  # and back, unchanged


@pytest.mark.parametrize("currency", ["JPY", "EUR", "KWD", "CLF"])
def test_every_amount_survives_the_round_trip(currency: str) -> None:
    for minor in (0, 1, 7, 99, 100, 101, 999, 1000, 12345, 9_007_199_254_740_993):
        assert to_minor_units(from_minor_units(minor, currency), currency) == minor


def test_finer_amounts_round_half_to_even() -> None:
    assert [to_minor_units(v, "EUR") for v in ("1.005", "1.015", "1.025", "1.0051")] == [
        100,
        102,
        102,
        101,
    ]
    assert [to_minor_units(v, "JPY") for v in ("0.5", "1.5", "2.5", "2.501")] == [0, 2, 2, 3]
    assert [to_minor_units(v, "KWD") for v in ("12.3445", "12.3455")] == [12344, 12346]


def test_no_amount_passes_through_a_float() -> None:
    # 2**53 + 1 cents: a float has no such number, a Decimal has it exactly.
    assert to_minor_units("90071992547409.93", "EUR") == 9_007_199_254_740_993
    assert format_money(9_007_199_254_740_993, "EUR") == "90071992547409.93 EUR"
    # Decimal arithmetic is exact where a float's is not (0.1 + 0.2 == 0.30000000000000004).
    assert to_minor_units(Decimal("0.1") + Decimal("0.2"), "EUR") == 30
    assert to_minor_units(Decimal("0.1") * 3, "KWD") == 300
    with pytest.raises(TypeError, match="float"):
        to_minor_units(0.1 + 0.2, "EUR")


def test_amounts_for_people_show_the_currency_s_decimals() -> None:
    assert format_money(15000, "JPY") == "15000 JPY"
    assert format_money(4900, "EUR") == "49.00 EUR"
    assert format_money(12345, "KWD") == "12.345 KWD"
    assert format_money(500, "OMR") == "0.500 OMR"


def test_a_lowercase_code_is_the_same_currency() -> None:
    assert exponent_of("jpy") == 0 and exponent_of(" kwd ") == 3
    assert to_minor_units("12.345", "kwd") == 12345
    assert format_money(4900, "eur") == "49.00 EUR"


@pytest.mark.parametrize("currency", ["", "EU", "EURO", "€", "12E", "XYZ", "XAU", "XXX"])
def test_an_unknown_currency_is_refused_not_guessed(currency: str) -> None:
    with pytest.raises(UnknownCurrencyError):
        exponent_of(currency)
    with pytest.raises(UnknownCurrencyError):
        to_minor_units("1.00", currency)
    with pytest.raises(UnknownCurrencyError):
        from_minor_units(100, currency)


def test_a_text_that_is_no_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="not an amount"):
        to_minor_units("twelve", "EUR")
