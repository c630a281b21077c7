"""`ChangeRequest(**values)` for filing, the hot path, without Piccolo's per-column generality:
each column's default is worked out once (a constant, or Piccolo's own default made anew, as a
new UUID or now()), and the values go straight where Piccolo keeps them (the instance's
`__dict__`, read and written by the columns' descriptors). The same row, a quarter of the CPU;
tests/unit/test_new_row.py holds it equal to Piccolo's constructor."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from piccolo.columns import Column
from piccolo.columns.defaults.base import Default

from gateway.change_requests.tables import ChangeRequest

_CONSTANTS = (str, int, float, bool, bytes, type(None))


def _maker(column: Column) -> Callable[[], Any]:
    """What Table.__init__ stores for a column not given (get_default_value, then a Default's
    python()), as a function: a constant returned as is, anything else made on each call."""
    default = getattr(column, "default", ...)
    if default is ...:
        return lambda: None
    if isinstance(default, Enum):
        default = default.value
    if isinstance(default, _CONSTANTS):
        return lambda: default

    def made() -> Any:
        value = column.get_default_value()
        return value.python() if isinstance(value, Default) else value

    return made


_COLUMNS = [
    (column._meta.name, _maker(column), column._meta.null) for column in ChangeRequest._meta.columns
]
_NAMES = frozenset(name for name, _, _ in _COLUMNS)


def new_row(**values: Any) -> ChangeRequest:
    """A ChangeRequest not yet in the database, as ChangeRequest(**values) builds it (values by
    attribute name); the same ValueErrors for an unknown name or a required column left out."""
    unknown = values.keys() - _NAMES
    if unknown:
        raise ValueError(f"Unrecognized columns - {sorted(unknown)}")
    row = ChangeRequest.__new__(ChangeRequest)
    state = row.__dict__
    state["_exists_in_db"] = False
    state["_was_created"] = None
    for name, default, null in _COLUMNS:
        if name in values:
            state[name] = values[name]
            continue
        value = default()
        if value is None and not null:
            raise ValueError(f"{name} wasn't provided")
        state[name] = value
    return row
