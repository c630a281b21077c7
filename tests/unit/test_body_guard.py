"""The body guard's card-number check over every encoding JSON may come in: its shortcut for
short ASCII bodies must not take a UTF-16 or UTF-32 body for one (Arabic-Indic digits are
ASCII-range bytes there)."""

from __future__ import annotations

import pytest

from gateway.edge.body_guard import _decode_json, _holds_card_number

CARD_IN_ARABIC_INDIC = '{"reason": "٤٥٣٩٥٧٨٧٦٣٦٢١٤٨٦"}'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le"])
def test_a_card_number_is_found_in_every_json_encoding(encoding: str) -> None:
    body = CARD_IN_ARABIC_INDIC.encode(encoding)
    assert _holds_card_number(body, _decode_json(body, 32))


def test_a_short_ascii_body_is_let_through() -> None:
    body = b'{"ip": "203.0.113.7", "email": "a@b.example"}'
    assert not _holds_card_number(body, _decode_json(body, 32))
