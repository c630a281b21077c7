"""What an entry says, masked before it is written: no card number or IBAN, in any spelling,
goes into the trail (`gateway.core.sensitive`, which finds them).

Two shortcuts for the common entry, each taken only where detection provably finds nothing, so
that every entry is written as it would be without them:
- a short ASCII text (an id such as "cr-123"): a card number is 13 digits at least, an IBAN 14
  letters and digits (Norway's have 15, and detection also takes one a digit short), and no
  escape detection reads ("\\xbc", "\\u0664") stands for more ASCII letters and digits than
  it is long;
- a payload whose JSON is ASCII and fails detection's own first look
  (`sensitive.may_hold_card_or_iban`: two digits, or an escape that may stand for them): the
  JSON holds every string of the payload as written, a string's backslash doubled ("\\\\xbc"
  still shows the escape "\\xbc"), so no string in it can hold more. Raw non-ASCII (¼ is two
  digits) takes the long way.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.core.catalogues import as_plain_json
from gateway.core.sensitive import may_hold_card_or_iban, redact_text, redact_value

SHORTEST_FOUND = 13  # characters: a card number's digits (an IBAN has more)
_ENCODER = msgspec.json.Encoder(enc_hook=as_plain_json)


def masked_text(text: str) -> str:
    """`text` with every IBAN and card number masked."""
    if len(text) < SHORTEST_FOUND and text.isascii():
        return text
    return redact_text(text)


def masked_json(payload: dict[str, Any]) -> bytes:
    """`payload` encoded, every IBAN and card number in its strings masked."""
    encoded = _ENCODER.encode(payload)
    if encoded.isascii() and not may_hold_card_or_iban(encoded.decode("ascii")):
        return encoded
    return _ENCODER.encode(redact_value(payload))
