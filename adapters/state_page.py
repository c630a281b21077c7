"""A read-only HTML page of what an emulator holds for one customer: the page a back-office link
opens in sandbox instead of the provider's dashboard (adapters/<provider>/links.py).

Pages are built from the values each emulator picks (never a whole record), escaped, and served
with a policy that lets no script run. Bank accounts and cards show as country or brand and the
last four characters only, as the rest of the product shows them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Response

POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
HEADERS = {
    "Content-Security-Policy": POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:64rem;color:#1d2430}"
    "h1{font-size:1.35rem}h2{font-size:1.05rem;margin-top:1.6rem;border-bottom:1px solid #e3e6eb}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem .3rem 0;"
    "border-bottom:1px solid #eef0f3;vertical-align:top}.muted{color:#5b6575}"
    ".banner{background:#fff3cd;color:#6b4f00;padding:.5rem .8rem;border-radius:6px}"
)


@dataclass(frozen=True)
class Table:
    heading: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def last_four(value: Any, prefix: str = "") -> str:
    """`prefix` and the last four characters of a number or mask: "DE****3000"."""
    text = str(value or "").replace(" ", "")
    return f"{prefix}****{text[-4:]}" if text else ""


def text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _cell(value: Any) -> str:
    return html.escape(text(value))


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>"
        for row in table.rows
    )
    if not rows:
        rows = f'<tr><td colspan="{len(table.columns)}" class="muted">None.</td></tr>'
    return (
        f"<h2>{html.escape(table.heading)}</h2><table>{head and f'<tr>{head}</tr>'}{rows}</table>"
    )


def page(
    provider: str, title: str, facts: Sequence[tuple[str, Any]], tables: Sequence[Table]
) -> Response[bytes]:
    listed = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{_cell(value)}</td></tr>" for label, value in facts
    )
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="robots" content="noindex"><title>{html.escape(title)} · '
        f"{html.escape(provider)} emulator</title><style>{_STYLE}</style></head><body>"
        f'<p class="banner">{html.escape(provider)} emulator (sandbox): what it holds now, '
        "read-only.</p>"
        f'<h1 data-testid="emulator-title">{html.escape(title)}</h1><table>{listed}</table>'
        + "".join(_table(table) for table in tables)
        + "</body></html>"
    )
    return Response(body.encode(), media_type="text/html", headers=HEADERS)


def not_found(provider: str, what: str, reference: str) -> Response[bytes]:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>'
        f"<style>{_STYLE}</style></head><body><h1>Not found</h1><p>The {html.escape(provider)} "
        f"emulator holds no {html.escape(what)} <code>{html.escape(reference)}</code>.</p>"
        "</body></html>"
    )
    return Response(body.encode(), status_code=404, media_type="text/html", headers=HEADERS)
