"""The emulator's invoice files: a small, valid one-page PDF, as Zuora renders an invoice (the
gateway streams it to the customer untouched)."""

from __future__ import annotations

import unicodedata


def _pdf_text(text: str) -> str:
    """A PDF string's content: ASCII (the standard font's), with its delimiters escaped."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def minimal_pdf(text: str, *more_lines: str) -> bytes:
    """A one-page PDF that viewers open: enough to prove the bytes came through untouched."""
    lines = ") Tj 0 -26 Td (".join(_pdf_text(line) for line in (text, *more_lines))
    content = f"BT /F1 18 Tf 72 720 Td ({lines}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
