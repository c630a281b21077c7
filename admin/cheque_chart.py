"""The cheque report's charts, drawn by the server: one bar chart per currency of the total of
the cheques entered each day (bounced ones in red beside it), for the days of the report. Only
the geometry is worked out here; `cheques_report.html` writes it as inline SVG, so the page
needs no JavaScript and works offline. Its words, dates and amounts are in the reader's
language; in a right-to-left language the chart is mirrored (days run from right to left and
the amounts' axis stands on the right), as the reader's eye goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gateway.cheques.schemas import DayReport
from gateway.i18n import direction, gettext, ngettext
from gateway.i18n.formatting import format_date, format_minor

WIDTH = 640
HEIGHT = 180
LEFT = 84  # room for the amounts of the axis (on the right when mirrored)
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
    axis_x: float  # where the amounts' axis stands
    base_from: float  # the dates' axis, from one end of the plot to the other
    base_to: float
    label_x: float  # where the amounts of the axis end, beside it
    rtl: bool = False
    width: int = WIDTH
    height: int = HEIGHT
    top: int = TOP
    base: int = HEIGHT - BOTTOM


def _days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def _amount(minor: int, currency: str) -> str:
    return format_minor(minor, currency)


def charts(days: list[DayReport], date_from: date, date_to: date) -> list[Chart]:
    """One chart per currency with cheques in the period, in alphabetical order."""
    currencies = sorted({day.currency for day in days})
    return [_chart(currency, days, date_from, date_to) for currency in currencies]


def _label(day: date, count: int, total: int, returned: int, currency: str) -> str:
    entered = ngettext(
        "{day}: {count} cheque, {total}", "{day}: {count} cheques, {total}", count
    ).format(day=format_date(day), count=count, total=_amount(total, currency))
    if not returned:
        return entered
    return gettext("{entered}; bounced {amount}").format(
        entered=entered, amount=_amount(returned, currency)
    )


def _chart(currency: str, days: list[DayReport], date_from: date, date_to: date) -> Chart:
    of_day = {day.business_date: day for day in days if day.currency == currency}
    every_day = _days(date_from, date_to)
    highest = max(
        [of_day[d].cheque_total.amount_minor for d in of_day]
        + [of_day[d].bounced_total.amount_minor for d in of_day]
        + [1]
    )
    rtl = direction() == "rtl"

    def at(x: float, width: float = 0) -> float:  # mirrored in a right-to-left language
        return WIDTH - x - width if rtl else x

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
        label = _label(day, count, total, returned, currency)
        width = slot * 0.5
        bars.append(Bar(at(x + slot * 0.12, width), HEIGHT - BOTTOM - height, width, height, label))
        if returned:
            high = plot_height * returned / highest
            width = slot * 0.26
            bounced.append(
                Bar(at(x + slot * 0.62, width), HEIGHT - BOTTOM - high, width, high, label)
            )
    first, last, middle = every_day[0], every_day[-1], len(every_day) // 2
    entered = sum(of_day[d].cheque_total.amount_minor for d in of_day)
    short = "d MMM"
    return Chart(
        currency=currency,
        title=gettext("Cheques in {currency}, {first} to {last}").format(
            currency=currency, first=format_date(first), last=format_date(last)
        ),
        description=ngettext(
            "Total of the cheques entered each day in {currency}: {total} over {days} day; "
            "bounced cheques in red.",
            "Total of the cheques entered each day in {currency}: {total} over {days} days; "
            "bounced cheques in red.",
            len(every_day),
        ).format(currency=currency, total=_amount(entered, currency), days=len(every_day)),
        bars=bars,
        bounced=bounced,
        top_label=_amount(highest if of_day else 0, currency),
        # In a right-to-left text, "start" is the right end: the anchors hold when mirrored.
        dates=[
            (at(LEFT), format_date(first, width=short), "start"),
            (
                at(LEFT + slot * (middle + 0.5)),
                format_date(every_day[middle], width=short),
                "middle",
            ),
            (at(WIDTH), format_date(last, width=short), "end"),
        ],
        axis_x=at(LEFT),
        base_from=at(LEFT),
        base_to=at(WIDTH),
        label_x=at(LEFT - 6),
        rtl=rtl,
    )
