"""What an entry says, masked before it is written: no card number or IBAN, in any spelling,
goes into the trail (`gateway.core.sensitive`, which finds them).

Two shortcuts for the common entry, each taken only where detection provably finds nothing, so
that every entry is written as it would be without them:
- a short ASCII text (an id such as "cr-123"): a card number is 13 digits at least, an IBAN 14
  letters and digits (Norway's have 15, and detection also takes one a digit short), and no
  escape detection reads ("\\xbc", "\\u0664") stands for more ASCII letters and digits than
  it is long;
- a payload whose JSON is ASCII, without a backslash, with fewer than two digits: no string in
  it holds two digits as detection reads it (`sensitive.may_hold_card_or_iban`). Raw non-ASCII
  (¼ is two digits) and escapes (a string's own backslash is written "\\\\") take the long way.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from gateway.core.catalogues import as_plain_json
from gateway.core.sensitive import redact_text, redact_value

SHORTEST_FOUND = 13  # characters: a card number's digits (an IBAN has more)
_TWO_DIGITS = re.compile(rb"[0-9][^0-9]*[0-9]")


def masked_text(text: str) -> str:
    """`text` with every IBAN and card number masked."""
    if len(text) < SHORTEST_FOUND and text.isascii():
        return text
    return redact_text(text)


def masked_json(payload: dict[str, Any]) -> bytes:
    """`payload` encoded, every IBAN and card number in its strings masked."""
    encoded = msgspec.json.encode(payload, enc_hook=as_plain_json)
    if encoded.isascii() and b"\\" not in encoded and not _TWO_DIGITS.search(encoded):
        return encoded
    return msgspec.json.encode(redact_value(payload), enc_hook=as_plain_json)
