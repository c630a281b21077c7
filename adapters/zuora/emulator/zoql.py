"""The part of ZOQL the gateway writes: select fields from one object, `=` and `!=` conditions
joined by `and` and `or` (`and` binds tighter, as in ZOQL), results in pages with a query
locator. Objects that only REST has (PaymentRun) cannot be queried."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError

_QUERY = re.compile(r"^\s*select\s+(.+?)\s+from\s+(\w+)(?:\s+where\s+(.+?))?\s*$", re.I | re.S)
_CONDITION = re.compile(r"^\s*(\w+)\s*(=|!=)\s*('(?:[^'\\]|\\.)*'|\S+)\s*$")
_AND = re.compile(r"\s+and\s+", re.I)
_OR = re.compile(r"\s+or\s+", re.I)
_NOT_IN_ZOQL = {"PaymentRun"}
Condition = tuple[str, str, Any]


@dataclass
class Page:
    records: list[tuple[str, ZObject]]  # (object type, fields)
    locator: str | None
    size: int


def _value(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return int(text)
    except ValueError:
        raise ZuoraError("MALFORMED_QUERY", f"cannot understand the value {text}") from None


def _comparable(value: Any) -> str:
    """Stored values come typed (set up in Python) or as text (sent over SOAP): compare text."""
    return (
        str(value).lower() if isinstance(value, bool) or value in ("true", "false") else str(value)
    )


def _matches_all(record: ZObject, conditions: list[Condition]) -> bool:
    for name, operator, expected in conditions:
        actual = record.get(name)
        equal = actual is None if expected is None else _comparable(actual) == _comparable(expected)
        if equal != (operator == "="):
            return False
    return True


def _matches(record: ZObject, alternatives: list[list[Condition]]) -> bool:
    return not alternatives or any(_matches_all(record, group) for group in alternatives)


def _conditions(where: str | None) -> list[list[Condition]]:
    """`a and b or c` as [[a, b], [c]]."""
    alternatives = []
    for alternative in _OR.split(where) if where else []:
        group = []
        for part in _AND.split(alternative):
            condition = _CONDITION.match(part)
            if not condition:
                raise ZuoraError("MALFORMED_QUERY", f"cannot understand the condition {part}")
            group.append((condition.group(1), condition.group(2), _value(condition.group(3))))
        alternatives.append(group)
    return alternatives


class QueryEngine:
    def __init__(self, tenant: Tenant) -> None:
        self._tenant = tenant
        self._pending: dict[str, tuple[str, list[tuple[str, ZObject]], int]] = {}

    def query(self, text: str, batch_size: int = 2000) -> Page:
        parsed = _QUERY.match(text)
        if not parsed:
            raise ZuoraError("MALFORMED_QUERY", "You have an error in your ZOQL syntax")
        fields = [name.strip() for name in parsed.group(1).split(",")]
        kind, where = parsed.group(2), parsed.group(3)
        conditions = _conditions(where)
        if kind in _NOT_IN_ZOQL:
            raise ZuoraError("INVALID_TYPE", f"invalid type for query: {kind}")
        table = self._tenant.table(kind)
        hidden = [name for name in fields if name.startswith("_")]
        if hidden:
            raise ZuoraError("INVALID_FIELD", f"invalid field for query: {kind}.{hidden[0]}")
        selected = [
            (kind, {name: record.get(name) for name in [*fields, "Id"] if name in record})
            for record in sorted(table.values(), key=lambda record: str(record["Id"]))
            if _matches(record, conditions)
        ]
        return self._page(kind, selected, 0, batch_size)

    def query_more(self, locator: str, batch_size: int = 2000) -> Page:
        pending = self._pending.pop(locator, None)
        if pending is None:
            raise ZuoraError("INVALID_VALUE", "invalid query locator")
        kind, records, offset = pending
        return self._page(kind, records, offset, batch_size)

    def _page(self, kind: str, records: list[tuple[str, ZObject]], offset: int, size: int) -> Page:
        end = offset + size
        locator = None
        if end < len(records):
            locator = secrets.token_hex(8)
            self._pending[locator] = (kind, records, end)
        return Page(records[offset:end], locator, len(records))
