"""How the gateway numbers a cheque: the depositor's initials, the business day and a
sequence per initials and day across currencies (`OP-20261205-0007`); the provider holds it
under `CHQ-` + that number, which is how it finds a repeated write. Also the business day
itself: today in the operations team's time zone."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PAYMENT_NUMBER_PREFIX = "CHQ-"


def _ascii_letters(text: str | None) -> str:
    """Letters only, accents folded ("Émile" -> "Emile"); anything without an ASCII form
    is dropped."""
    folded = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in folded if c.isascii() and c.isalpha())


def initials(username: str, first_name: str | None, last_name: str | None) -> str:
    """First letter of the first and last names when both are set, else the username's first
    two letters; capitals, ASCII letters only."""
    first, last = _ascii_letters(first_name), _ascii_letters(last_name)
    if first and last:
        return (first[0] + last[0]).upper()
    letters = _ascii_letters(username).upper()
    return letters[:2] or "XX"  # a username of digits alone still numbers its cheques


def cheque_number(depositor_initials: str, business_date: date, sequence: int) -> str:
    return f"{depositor_initials}-{business_date:%Y%m%d}-{sequence:04d}"


def payment_number(number: str) -> str:
    """What the provider holds the cheque under, and finds a repeat by."""
    return PAYMENT_NUMBER_PREFIX + number


def business_date_in(time_zone: str, now: datetime | None = None) -> date:
    """Today where the operations team works."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(time_zone)).date()
