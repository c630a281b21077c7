"""The daily report: per business day and currency, the cheques entered that day (bounced ones
included, failed ones not: they were never recorded), the cheques bounced that day whichever
day they were entered (the day in the operations time zone), and the batches open and closed.
Newest day first, currencies in alphabetical order; days without any of them are left out."""

from __future__ import annotations

from datetime import date

from gateway.cheques.records import money
from gateway.cheques.schemas import DayReport, Report
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message

MAX_DAYS = 366

_REPORT = """
WITH parts AS (
  SELECT business_date AS day, currency, count(*) AS n, sum(amount_minor) AS total,
         0 AS bounced_n, 0 AS bounced_total, 0 AS open_n, 0 AS closed_n
    FROM cheques
   WHERE business_date BETWEEN $1 AND $2 AND status <> 'failed'
     AND ($3::text IS NULL OR currency = $3)
   GROUP BY 1, 2
  UNION ALL
  SELECT (bounced_at AT TIME ZONE $4)::date, currency, 0, 0, count(*), sum(amount_minor), 0, 0
    FROM cheques
   WHERE bounced_at >= ($1::date)::timestamp AT TIME ZONE $4
     AND bounced_at < ($2::date + 1)::timestamp AT TIME ZONE $4
     AND status = 'bounced' AND ($3::text IS NULL OR currency = $3)
   GROUP BY 1, 2
  UNION ALL
  SELECT business_date, currency, 0, 0, 0, 0,
         count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'closed')
    FROM cheque_batches
   WHERE business_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR currency = $3)
   GROUP BY 1, 2
)
SELECT day, currency, sum(n) AS n, sum(total) AS total, sum(bounced_n) AS bounced_n,
       sum(bounced_total) AS bounced_total, sum(open_n) AS open_n, sum(closed_n) AS closed_n
  FROM parts GROUP BY day, currency ORDER BY day DESC, currency
"""


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
    rows = await fetch(_REPORT, date_from, date_to, currency, time_zone)
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
