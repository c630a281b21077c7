"""Dates, times and amounts as the reader expects them: in their language and time zone,
and empty (not "None", not "NULL") when there is none."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates, numbers

from gateway.i18n.catalogues import current_language, current_time_zone


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


def format_number(value: int | float | Decimal) -> str:
    return numbers.format_decimal(value, locale=current_language.get())
