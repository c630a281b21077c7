"""How deep a request's JSON may nest, checked on the raw bytes before anything parses them.

Python's json module, msgspec and every walk over the parsed value recurse once per level: a
1 KB body of brackets reached the interpreter's recursion limit. A scan that skips strings and
counts brackets costs one regex pass and refuses such a body before any parser sees it.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from gateway.core.errors import BillingError, ErrorCode

DEFAULT_MAX_DEPTH = 32  # real bodies nest 3 deep; a Stripe event about 8
# A JSON string, escapes included; possessive, so a long string is one step, not one per byte.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting_depth(body: bytes) -> int:
    """The deepest level of arrays and objects; brackets inside strings do not count."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[byte] for byte in brackets), default=0)


def refuse_deep_json(body: bytes, max_depth: int) -> None:
    # a body with no more opening brackets than the limit cannot nest past it: no count needed
    if body.count(b"[") + body.count(b"{") <= max_depth or nesting_depth(body) <= max_depth:
        return
    raise BillingError(
        ErrorCode.BODY_TOO_DEEP,
        f"The JSON body nests arrays and objects more than {max_depth} levels deep; "
        "send a flatter body.",
    )


def loads_within_depth(body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """json.loads for bodies a client sent: too deep is refused, not a RecursionError."""
    refuse_deep_json(body, max_depth)
    return json.loads(body)
