"""Dates, times and amounts as the reader expects them: in their language and time zone,
and empty (not "None", not "NULL") when there is none."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates, numbers

from adapters.money import from_minor_units  # pure arithmetic on ISO 4217 exponents
from gateway.core.catalogues import current_language, current_time_zone


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_time_zone.get())
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def format_datetime(value: datetime | None, *, width: str = "medium") -> str:
    if value is None:
        return ""
    return dates.format_datetime(value, format=width, tzinfo=_zone(), locale=current_language.get())


def format_date(value: date | datetime | None, *, width: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_zone()).date()
    return dates.format_date(value, format=width, locale=current_language.get())


def format_amount(amount: Decimal | int | float, currency: str) -> str:
    return numbers.format_currency(amount, currency, locale=current_language.get())


def format_minor(amount_minor: int | None, currency: str) -> str:
    """An amount held in minor units (what the gateway stores), as the reader writes amounts:
    "49,00 €" in French, "€49.00" in English; "" for none."""
    if amount_minor is None:
        return ""
    return format_amount(from_minor_units(int(amount_minor), currency), currency)


def format_number(value: int | float | Decimal) -> str:
    return numbers.format_decimal(value, locale=current_language.get())
