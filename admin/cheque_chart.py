"""The cheque report's charts, drawn by the server: one bar chart per currency of the total of
the cheques entered each day (bounced ones in red beside it), for the days of the report. Only
the geometry is worked out here; `cheques_report.html` writes it as inline SVG, so the page
needs no JavaScript and works offline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from adapters.money import format_money
from gateway.cheques.schemas import DayReport

WIDTH = 640
HEIGHT = 180
LEFT = 84  # room for the amounts of the axis
BOTTOM = 28  # room for the dates
TOP = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what a screen reader and a tooltip say about the day


@dataclass(frozen=True)
class Chart:
    currency: str
    title: str
    description: str
    bars: list[Bar]
    bounced: list[Bar]
    top_label: str  # the amount at the top of the axis
    dates: list[tuple[float, str, str]]  # x, the date written under the axis, its anchor
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    base: int = HEIGHT - BOTTOM


def _days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def charts(days: list[DayReport], date_from: date, date_to: date) -> list[Chart]:
    """One chart per currency with cheques in the period, in alphabetical order."""
    currencies = sorted({day.currency for day in days})
    return [_chart(currency, days, date_from, date_to) for currency in currencies]


def _chart(currency: str, days: list[DayReport], date_from: date, date_to: date) -> Chart:
    of_day = {day.business_date: day for day in days if day.currency == currency}
    every_day = _days(date_from, date_to)
    highest = max(
        [of_day[d].cheque_total.amount_minor for d in of_day]
        + [of_day[d].bounced_total.amount_minor for d in of_day]
        + [1]
    )
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / len(every_day)
    bars: list[Bar] = []
    bounced: list[Bar] = []
    for position, day in enumerate(every_day):
        report = of_day.get(day)
        total = report.cheque_total.amount_minor if report else 0
        count = report.cheque_count if report else 0
        returned = report.bounced_total.amount_minor if report else 0
        x = LEFT + position * slot
        height = plot_height * total / highest
        label = (
            f"{day.isoformat()}: {count} cheque{'s' if count != 1 else ''}, "
            f"{format_money(total, currency)}"
        )
        if returned:
            label += f"; bounced {format_money(returned, currency)}"
        bars.append(Bar(x + slot * 0.12, HEIGHT - BOTTOM - height, slot * 0.5, height, label))
        if returned:
            high = plot_height * returned / highest
            bounced.append(Bar(x + slot * 0.62, HEIGHT - BOTTOM - high, slot * 0.26, high, label))
    first, last, middle = every_day[0], every_day[-1], len(every_day) // 2
    entered = sum(of_day[d].cheque_total.amount_minor for d in of_day)
    return Chart(
        currency=currency,
        title=f"Cheques in {currency}, {first.isoformat()} to {last.isoformat()}",
        description=(
            f"Total of the cheques entered each day in {currency}: "
            f"{format_money(entered, currency)} over {len(every_day)} days; "
            "bounced cheques in red."
        ),
        bars=bars,
        bounced=bounced,
        top_label=format_money(highest if of_day else 0, currency),
        dates=[
            (LEFT, first.strftime("%d %b"), "start"),
            (LEFT + slot * (middle + 0.5), every_day[middle].strftime("%d %b"), "middle"),
            (WIDTH, last.strftime("%d %b"), "end"),
        ],
    )
