"""HTTP handlers for the daily cheque report: per business day and currency, the cheques
entered and bounced, and the batches open and closed; as JSON and as a CSV file.

Scope `payments:offline`. Without dates it covers the last 30 business days.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from gateway.cheques.controller import OFFLINE, CurrencyQuery
from gateway.cheques.csv_responses import CSV, attachment_header, csv_response
from gateway.cheques.exports import report_csv
from gateway.cheques.schemas import Report
from gateway.cheques.service import ChequeService
from gateway.edge.openapi import AUTHENTICATED, SECURITY, problems

DEFAULT_DAYS = 30
DateFrom = Annotated[
    date | None,
    QueryParameter(description="First business day (YYYY-MM-DD); default: 29 days before date_to"),
]
DateTo = Annotated[
    date | None,
    QueryParameter(description="Last business day (YYYY-MM-DD); default: today"),
]
RANGE = (
    "At most 366 days. Days without cheques or batches are left out; newest day first, "
    "currencies in alphabetical order."
)


async def _report(
    cheques: ChequeService, date_from: date | None, date_to: date | None, currency: str | None
) -> Report:
    last = date_to or cheques.business_date_now()
    # (a date in year 1 has no 29 days before it)
    first = date_from or date.fromordinal(max(1, last.toordinal() - (DEFAULT_DAYS - 1)))
    return await cheques.report(first, last, currency)


def report_file_name(report: Report, currency: str | None) -> str:
    """`cheque-report-2026-11-06-2026-12-05-EUR`: the range and the currency it covers."""
    stem = f"cheque-report-{report.date_from.isoformat()}-{report.date_to.isoformat()}"
    return f"{stem}-{currency}" if currency else stem


class ChequeReportController(Controller):
    path = "/cheque-reports"
    tags = ["offline payments"]
    security = SECURITY

    @get(
        "/daily",
        operation_id="getChequeReport",
        opt=OFFLINE,
        responses=problems(*AUTHENTICATED, codes=["report_period_invalid"]),
        summary="Per business day and currency: cheques entered, bounced, batches open and closed",
        description=f"Counts and totals (minor units) per day and currency. {RANGE}",
    )
    async def daily(
        self,
        cheques: NamedDependency[ChequeService],
        date_from: DateFrom = None,
        date_to: DateTo = None,
        currency: CurrencyQuery = None,
    ) -> Report:
        return await _report(cheques, date_from, date_to, currency)

    @get(
        "/daily.csv",
        operation_id="getChequeReportCsv",
        opt=OFFLINE,
        media_type=CSV,
        response_headers=attachment_header(
            'attachment; filename="cheque-report-2026-11-06-2026-12-05.csv"'
        ),
        responses=problems(*AUTHENTICATED, codes=["report_period_invalid"]),
        summary="The daily report as a CSV file (UTF-8), one row per day and currency",
        description="The same rows as getChequeReport, amounts as decimals in the currency and "
        f"in minor units. {RANGE}",
    )
    async def daily_csv(
        self,
        cheques: NamedDependency[ChequeService],
        date_from: DateFrom = None,
        date_to: DateTo = None,
        currency: CurrencyQuery = None,
    ) -> Response[str]:
        report = await _report(cheques, date_from, date_to, currency)
        return csv_response(report_csv(report), report_file_name(report, currency))
