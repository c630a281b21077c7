"""The documents behind the emulator's document addresses: an invoice's PDF (a real one-page
PDF 1.4, written by hand with exact cross-reference offsets, so any reader opens it) and a
charge's HTML receipt, as Stripe serves them from its own hosts."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from adapters.money import format_money
from adapters.stripe.units import from_stripe_amount

StripeObject = dict[str, Any]


def _shown(amount: Any, currency: str) -> str:
    """For people, as Stripe prints it: 5 ISK, not its API's `500`."""
    return format_money(from_stripe_amount(int(amount), currency).amount_minor, currency)


def _pdf_text(text: str) -> bytes:
    """A PDF literal string in WinAnsi (Latin-1 here), with its delimiters escaped."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1", errors="replace") + b")"


def _pdf(lines: list[str]) -> bytes:
    content = b"BT /F1 12 Tf 72 760 Td 16 TL\n"
    for line in lines:
        content += _pdf_text(line) + b" Tj T*\n"
    content += b"ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _day(timestamp: Any) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).date().isoformat() if timestamp else "-"


def invoice_pdf(invoice: StripeObject, customer: StripeObject | None) -> bytes:
    currency = str(invoice["currency"]).upper()
    lines = [
        f"Invoice {invoice.get('number') or invoice['id']}",
        f"Customer: {(customer or {}).get('name') or invoice['customer']}",
        f"Date: {_day(invoice.get('created'))}",
        f"Status: {invoice['status']}",
        "",
    ]
    for line in invoice["lines"]["data"]:
        amount = _shown(line["amount"], currency)
        lines.append(f"{line.get('description') or 'Item'}: {amount}")
    lines += ["", f"Total: {_shown(invoice['total'], currency)}"]
    return _pdf(lines)


def receipt_html(charge: StripeObject, customer: StripeObject | None) -> str:
    currency = str(charge["currency"]).upper()
    details = charge.get("payment_method_details") or {}
    kind = str(details.get("type") or "")
    last4 = (details.get(kind) or {}).get("last4", "")
    country = (details.get(kind) or {}).get("country", "")
    method = f"card ****{last4}" if kind == "card" else f"{country}****{last4}"
    rows = [
        ("Receipt", str(charge["id"])),
        ("Customer", str((customer or {}).get("name") or charge.get("customer"))),
        ("Date", _day(charge.get("created"))),
        ("Amount paid", _shown(charge["amount"], currency)),
        ("Refunded", _shown(charge.get("amount_refunded") or 0, currency)),
        ("Paid with", method),
    ]
    cells = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Receipt {html.escape(str(charge['id']))}</title></head>"
        f"<body><h1>Receipt</h1><table>{cells}</table></body></html>"
    )
