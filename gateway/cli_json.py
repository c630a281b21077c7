"""`--json` for the list commands: one JSON document on standard output, nothing else there."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import typer

JsonOutput = Annotated[
    bool, typer.Option("--json", help="one JSON array on standard output, nothing else there")
]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def echo_json(items: Iterable[Mapping[str, Any]]) -> None:
    """The list as one JSON document on standard output: datetimes as ISO 8601, ids as text."""
    document = [{key: _plain(value) for key, value in item.items()} for item in items]
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
