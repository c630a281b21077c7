"""The deposit slip and the daily report as CSV, for a spreadsheet. A cell a spreadsheet would
run as a formula (starting with = + - @, a tab or a carriage return) is written with a leading
apostrophe; amounts are decimal text in the currency (`120.00`, `15000` for JPY) beside their
minor units."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from adapters.money import from_minor_units
from gateway.cheques.schemas import Report, SlipRead

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SLIP_COLUMNS = (
    "number",
    "reference",
    "provider",
    "account",
    "customer",
    "invoice",
    "amount",
    "amount_minor",
    "currency",
    "status",
    "entered_at",
)
REPORT_COLUMNS = (
    "business_date",
    "currency",
    "cheque_count",
    "cheque_total",
    "cheque_total_minor",
    "bounced_count",
    "bounced_total",
    "bounced_total_minor",
    "batches_open",
    "batches_closed",
)


def safe_cell(value: Any) -> str:
    """The cell as text, never a formula."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def decimal_text(amount_minor: int, currency: str) -> str:
    return str(from_minor_units(amount_minor, currency))


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def slip_csv(slip: SlipRead) -> str:
    batch = slip.batch
    currency = batch.currency
    total = batch.total.amount_minor
    scan = batch.last_scan
    rows: list[Sequence[Any]] = [
        ("batch", batch.name),
        ("business date", batch.business_date),
        ("currency", currency),
        ("depositor", batch.depositor),
        ("cheques", batch.cheque_count),
        ("total", decimal_text(total, currency), total),
        ("status", batch.status),
        ("closed at", batch.closed_at),
        ("closed by", batch.closed_by),
        (
            "scanner total",
            decimal_text(scan.scanner_total.amount_minor, currency) if scan else None,
            scan.scanner_total.amount_minor if scan else None,
        ),
        (),
        SLIP_COLUMNS,
    ]
    for cheque in slip.cheques:
        amount = cheque.amount.amount_minor
        rows.append(
            (
                cheque.number,
                cheque.reference,
                cheque.provider,
                cheque.account_number or cheque.account_id,
                cheque.account_name,
                cheque.invoice_number or cheque.invoice_id or "credit",
                decimal_text(amount, currency),
                amount,
                currency,
                cheque.status,
                cheque.entered_at,
            )
        )
    rows.append(
        ("total", "", "", "", "", "", decimal_text(total, currency), total, currency, "", "")
    )
    return _csv(rows)


def report_csv(report: Report) -> str:
    rows: list[Sequence[Any]] = [REPORT_COLUMNS]
    for day in report.days:
        currency = day.currency
        rows.append(
            (
                day.business_date,
                currency,
                day.cheque_count,
                decimal_text(day.cheque_total.amount_minor, currency),
                day.cheque_total.amount_minor,
                day.bounced_count,
                decimal_text(day.bounced_total.amount_minor, currency),
                day.bounced_total.amount_minor,
                day.batches_open,
                day.batches_closed,
            )
        )
    return _csv(rows)
