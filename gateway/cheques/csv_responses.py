"""A CSV file as the API hands it out: `text/csv; charset=utf-8`, downloaded under a file name
that says what it is (the deposit slip, the daily report)."""

from __future__ import annotations

from litestar import Response
from litestar.datastructures import ResponseHeader

from gateway.billing.history_mapping import attachment

CSV = "text/csv"  # Litestar adds `; charset=utf-8` to text types


def attachment_header(example: str) -> list[ResponseHeader]:
    """Documents the Content-Disposition every CSV answer carries."""
    return [
        ResponseHeader(
            name="Content-Disposition",
            documentation_only=True,
            value=example,
            description="The CSV as a file to save, named after what it holds.",
        )
    ]


def csv_response(text: str, stem: str) -> Response[str]:
    return Response(
        content=text, media_type=CSV, headers={"Content-Disposition": attachment(stem, "csv")}
    )
