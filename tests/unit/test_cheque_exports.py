"""The deposit slip and the daily report as CSV: what a spreadsheet opens, never a formula,
amounts exact in the currency."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime

from gateway.cheques.exports import report_csv, safe_cell, slip_csv
from gateway.cheques.schemas import BatchRead, ChequeRead, DayReport, Report, ScanRead, SlipRead
from gateway.corrections.schemas import MoneyRead

NOW = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
DAY = date(2026, 12, 5)


def _money(minor: int, currency: str = "EUR") -> MoneyRead:
    return MoneyRead(amount_minor=minor, currency=currency)


def _cheque(number: str, reference: str, minor: int, currency: str = "EUR") -> ChequeRead:
    return ChequeRead(
        id=uuid.uuid4(),
        number=number,
        reference=reference,
        status="recorded",
        provider="zuora",
        account_id='=HYPERLINK("http://evil")',
        account_name="@SUM(A1:A9) SARL",
        account_number=None,
        invoice_id="inv_1",
        invoice_number="INV00001",
        credit=False,
        amount=_money(minor, currency),
        business_date=DAY,
        batch_id=uuid.uuid4(),
        depositor="olga",
        payment_number="CHQ-" + number,
        provider_payment_id="p1",
        invoice_status="paid",
        note=None,
        entered_by="staff:olga",
        entered_at=NOW,
        recorded_at=NOW,
        bounced_at=None,
        bounce_reason=None,
        failure=None,
    )


def _batch(total: int, count: int, currency: str = "EUR") -> BatchRead:
    return BatchRead(
        id=uuid.uuid4(),
        name=f"2026-12-05 {currency} OP #1",
        business_date=DAY,
        currency=currency,
        depositor="olga",
        depositor_initials="OP",
        sequence=1,
        status="closed",
        cheque_count=count,
        total=_money(total, currency),
        bounced_count=0,
        last_scan=ScanRead(
            scanner_total=_money(total, currency),
            batch_total=_money(total, currency),
            difference=_money(0, currency),
            matched=True,
            by="omar",
            at=NOW,
            scanned_at=None,
        ),
        closed_at=NOW,
        closed_by="omar",
        created_at=NOW,
    )


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_cell_that_a_spreadsheet_would_run_is_quoted_as_text() -> None:
    for dangerous in ("=1+1", "+33 1 23", "-12", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("0001234") == "0001234" and safe_cell(None) == ""


def test_the_slip_lists_every_cheque_and_its_total() -> None:
    cheques = [
        _cheque("OP-20261205-0001", "0001234", 12_000),
        _cheque("OP-20261205-0002", "-5", 4_900),
    ]
    rows = _rows(slip_csv(SlipRead(batch=_batch(16_900, 2), cheques=cheques)))
    header = {row[0]: row[1:] for row in rows[:10]}
    assert header["batch"] == ["2026-12-05 EUR OP #1"]
    assert header["total"] == ["169.00", "16900"]
    assert header["closed by"] == ["omar"] and header["scanner total"] == ["169.00", "16900"]
    first = rows.index(["number", "reference", "provider", "account", "customer", "invoice",
                        "amount", "amount_minor", "currency", "status", "entered_at"])  # fmt: skip
    lines = rows[first + 1 :]
    assert [line[0] for line in lines] == ["OP-20261205-0001", "OP-20261205-0002", "total"]
    assert lines[0][6:8] == ["120.00", "12000"]
    assert lines[1][1] == "'-5"  # a formula-like reference is text
    assert lines[0][3].startswith("'=")  # as is anything else a provider returned
    assert lines[0][4].startswith("'@")
    assert lines[2][6:8] == ["169.00", "16900"]


def test_amounts_follow_the_currency_exponent() -> None:
    rows = _rows(
        slip_csv(
            SlipRead(batch=_batch(15_000, 1, "JPY"), cheques=[_cheque("OP-1", "7", 15_000, "JPY")])
        )
    )
    assert ["total", "15000", "15000"] in rows


def test_the_report_has_a_row_per_day_and_currency() -> None:
    report = Report(
        days=[
            DayReport(
                business_date=DAY,
                currency="EUR",
                cheque_count=3,
                cheque_total=_money(136_900),
                bounced_count=1,
                bounced_total=_money(4_900),
                batches_open=1,
                batches_closed=1,
            ),
            DayReport(
                business_date=DAY,
                currency="KWD",
                cheque_count=1,
                cheque_total=_money(1_250, "KWD"),
                bounced_count=0,
                bounced_total=_money(0, "KWD"),
                batches_open=0,
                batches_closed=1,
            ),
        ],
        date_from=DAY,
        date_to=DAY,
    )
    rows = _rows(report_csv(report))
    assert rows[0][:4] == ["business_date", "currency", "cheque_count", "cheque_total"]
    assert rows[1] == [
        "2026-12-05",
        "EUR",
        "3",
        "1369.00",
        "136900",
        "1",
        "49.00",
        "4900",
        "1",
        "1",
    ]
    assert rows[2][3] == "1.250"
