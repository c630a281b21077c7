"""Keyset-pagination cursors: the (created_at, id) of the last row shown, as opaque URL text.

A cursor comes back from the client, so decoding trusts nothing: one this API did not give out
(garbage, a time without a zone, an id past the column's range, another list's cursor) is
refused as `invalid_cursor` before it reaches a query, where asyncpg would fail to encode it and
answer 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from gateway.core.errors import BillingError, ErrorCode

MAX_CURSOR_LENGTH = 300
BIGINT = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # a PostgreSQL bigint
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]
_ALPHABET = r"^[A-Za-z0-9_-]*$"  # base64url without padding
_SHAPE = re.compile(_ALPHABET)
RowId = TypeVar("RowId", int, uuid.UUID)
# Every list's `cursor` query parameter: what the codec can give out, checked at the edge.
CursorQuery = Annotated[
    str | None,
    QueryParameter(
        max_length=MAX_CURSOR_LENGTH,
        pattern=_ALPHABET,
        description="`next_cursor` of the previous page",
    ),
]


def encode_cursor(created_at: datetime, row_id: int | uuid.UUID) -> str:
    last = row_id if isinstance(row_id, int) else str(row_id)
    raw = json.dumps([created_at.isoformat(), last]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, id_type: type[RowId]) -> tuple[datetime, RowId]:
    """The position a cursor names; `id_type` is the list's id column type (int or UUID)."""
    row_id_type: Any = BIGINT if id_type is int else id_type
    try:
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _SHAPE.match(cursor):
            raise ValueError("not a cursor's alphabet")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # typed decoding stops at the first token out of place: no nesting is ever walked
        created_at, row_id = msgspec.json.decode(raw, type=tuple[_AWARE, row_id_type])
        return created_at.astimezone(UTC), row_id
    except (ValueError, binascii.Error, msgspec.DecodeError, OverflowError):
        raise BillingError(
            ErrorCode.INVALID_CURSOR,
            "The cursor is not one this API gave out; start again without it.",
        ) from None
