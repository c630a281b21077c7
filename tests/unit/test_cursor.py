"""A cursor comes back from the client: anything this API did not give out is invalid_cursor."""

import base64
import uuid
from datetime import UTC, datetime

import pytest

from gateway.core.cursor import decode_cursor, encode_cursor
from gateway.core.errors import BillingError, ErrorCode

NOW = datetime(2026, 12, 4, 12, 30, 15, 123456, tzinfo=UTC)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_given_out_comes_back_as_the_same_position() -> None:
    request_id = uuid.uuid4()
    assert decode_cursor(encode_cursor(NOW, request_id), uuid.UUID) == (NOW, request_id)
    assert decode_cursor(encode_cursor(NOW, 42), int) == (NOW, 42)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "A" * 301,
        b64(b"\xff\xfe\x00"),
        b64(b'["2024-01-01T00:00:00+00:00", 99999999999999999999]'),  # past a bigint
        b64(b'["2024-01-01T00:00:00+00:00", 1e400]'),
        b64(b'["2024-01-01T00:00:00", 5]'),  # no time zone
        b64(b'["0001-01-01T00:00:00+14:00", 5]'),  # before year 1 in UTC
        b64(b"[" * 200 + b"]" * 200),
        b64(b'["2024-01-01T00:00:00+00:00", 5, 6]'),
        b64(b'{"a": 1}'),
        encode_cursor(NOW, uuid.uuid4()),  # another list's cursor
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(BillingError) as refused:
        decode_cursor(cursor, int)
    assert refused.value.code is ErrorCode.INVALID_CURSOR
