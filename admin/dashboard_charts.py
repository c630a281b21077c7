"""The dashboard's bar charts, drawn by the server as in admin.cheque_chart: only the geometry
and the words are worked out here, `dashboard.html` writes them as inline SVG (no JavaScript,
works offline). A column is a queue, a specialist or a day; its bar is stacked from one segment
per series, each with its own title (what a tooltip and a screen reader say) and, where a list
stands behind it, a link to that list. Right to left (Arabic), the columns are mirrored: the
first day is on the right and the axis stands on the right."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from gateway.i18n.formatting import format_date, format_number

WIDTH = 720
HEIGHT = 220
SIDE = 56  # room for the axis' numbers
BOTTOM = 34  # room for the columns' names
TOP = 12
DAY_FORMAT = "EEE d"  # babel pattern: the day's short name and number


@dataclass(frozen=True)
class Series:
    name: str  # translated
    css: str  # the segment's class: its colour


@dataclass(frozen=True)
class ColumnData:
    """What the caller counts: one value per series, and the list behind each (or None)."""

    values: Sequence[int]
    name: str = ""  # a queue's or a person's name; empty for a day
    day: date | None = None
    links: Sequence[str | None] = ()
    link: str | None = None  # the whole column's list


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    href: str | None


@dataclass(frozen=True)
class Column:
    x: float  # its centre, where its name is written
    name: str
    day: date | None
    values: list[int]
    links: list[str | None]
    link: str | None
    total: int
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    series: list[Series]
    columns: list[Column]
    highest: int
    rtl: bool
    href: str | None = None  # the list behind the whole chart
    link_text: str = ""
    note: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    top: int = TOP
    base: int = HEIGHT - BOTTOM
    axis_x: int = field(default=SIDE)


def column_label(column: ColumnData) -> str:
    return format_date(column.day, width=DAY_FORMAT) if column.day else column.name


def bar_chart(
    key: str,
    title: str,
    description: str,
    series: Sequence[Series],
    data: Sequence[ColumnData],
    *,
    rtl: bool,
    href: str | None = None,
    link_text: str = "",
    note: str = "",
) -> Chart:
    highest = max([sum(column.values) for column in data] + [1])
    plot_left, plot_right = (0, WIDTH - SIDE) if rtl else (SIDE, WIDTH)
    slot = (plot_right - plot_left) / max(len(data), 1)
    plot_height = HEIGHT - BOTTOM - TOP
    columns: list[Column] = []
    for position, column in enumerate(data):
        place = len(data) - 1 - position if rtl else position
        left = plot_left + place * slot
        y = float(HEIGHT - BOTTOM)
        segments: list[Segment] = []
        links = list(column.links) or [None] * len(series)
        for number, (one, value) in enumerate(zip(series, column.values, strict=True)):
            if not value:
                continue
            height = plot_height * value / highest
            y -= height
            said = f"{column_label(column)} · {one.name}: {format_number(value)}"
            segments.append(
                Segment(left + slot * 0.18, y, slot * 0.64, height, one.css, said, links[number])
            )
        columns.append(
            Column(
                x=left + slot / 2,
                name=column.name,
                day=column.day,
                values=list(column.values),
                links=links,
                link=column.link,
                total=sum(column.values),
                segments=segments,
            )
        )
    return Chart(
        key=key,
        title=title,
        description=description,
        series=list(series),
        columns=columns,
        highest=highest if any(column.total for column in columns) else 0,
        rtl=rtl,
        href=href,
        link_text=link_text,
        note=note,
        axis_x=WIDTH - SIDE if rtl else SIDE,
    )
