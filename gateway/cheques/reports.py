"""The daily report: per business day and currency, the cheques entered that day (bounced ones
included, failed ones not: they were never recorded), the cheques bounced that day whichever
day they were entered (the day in the operations time zone), and the batches open and closed.
Newest day first, currencies in alphabetical order; days without any of them are left out."""

from __future__ import annotations

from datetime import date

from gateway.cheques import queries
from gateway.cheques.records import money
from gateway.cheques.schemas import DayReport, Report
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message

MAX_DAYS = 366


def check_period(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise BillingError(
            ErrorCode.REPORT_PERIOD_INVALID,
            Message(
                "The period starts ({date_from}) after it ends ({date_to}): swap the dates.",
                date_from=str(date_from),
                date_to=str(date_to),
            ),
        )
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise BillingError(
            ErrorCode.REPORT_PERIOD_INVALID,
            Message(
                "A report covers at most {days} days; ask for a shorter period.", days=MAX_DAYS
            ),
        )


async def daily_report(
    date_from: date, date_to: date, currency: str | None, time_zone: str
) -> Report:
    check_period(date_from, date_to)
    rows = await fetch(queries.REPORT, date_from, date_to, currency, time_zone)
    return Report(
        days=[
            DayReport(
                business_date=row["day"],
                currency=row["currency"],
                cheque_count=int(row["n"]),
                cheque_total=money(int(row["total"]), row["currency"]),
                bounced_count=int(row["bounced_n"]),
                bounced_total=money(int(row["bounced_total"]), row["currency"]),
                batches_open=int(row["open_n"]),
                batches_closed=int(row["closed_n"]),
            )
            for row in rows
        ],
        date_from=date_from,
        date_to=date_to,
    )
