"""Refuse a URL whose path or query string is not plain text: a control character (NUL, ESC,
DEL...) or bytes that are not UTF-8, in any path parameter or query name or value.

PostgreSQL refuses NUL in text, so `?ticket=%00` reached the database and answered 500; an ESC
sequence would reach a terminal tailing the logs. No URL this gateway serves needs either, so
one check at the edge covers every handler, present and future.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from litestar.types import Scope

from gateway.core.errors import BillingError, ErrorCode

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAMEABLE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")  # a name safe to repeat in the answer


def _text(raw: bytes, where: str) -> str:
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            f"The URL's {where} is not UTF-8 text; percent-encode UTF-8 bytes only.",
        ) from None
    if _CONTROL.search(text):
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            f"The URL's {where} holds a control character (such as NUL or ESC); remove it.",
        )
    return text


def refuse_unprintable_url(scope: Scope) -> None:
    _text(scope.get("raw_path") or str(scope.get("path", "")).encode(), "path")
    query: bytes = scope.get("query_string", b"")
    for pair in query.replace(b"+", b" ").split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        name = _text(raw_name, "query string")
        _text(raw_value, f"query parameter {name}" if _NAMEABLE.match(name) else "query string")
