"""Rows in and out: a Piccolo row inserted with one prepared statement (the query builder's cost
shows on hot paths), and JSONB values written as JSON text and read back decoded."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from piccolo.columns import JSON, JSONB
from piccolo.table import Table

from gateway.core.catalogues import as_plain_json
from gateway.core.db.connection import fetch


@functools.cache
def _insert_sql(table: type[Table]) -> str:
    columns = table._meta.columns
    names = ", ".join(f'"{column._meta.db_column_name}"' for column in columns)
    values = ", ".join(
        f"${n}::jsonb" if isinstance(column, JSON | JSONB) else f"${n}"
        for n, column in enumerate(columns, start=1)
    )
    # Identifiers come from the table classes, never from input.
    return f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({values})'  # noqa: S608


def as_json(value: Any) -> str:
    """A value as JSON text for a JSONB parameter (a Message as its English text)."""
    return msgspec.json.encode(value, enc_hook=as_plain_json).decode()


def loaded(value: Any) -> Any:
    """A JSONB value as asyncpg returns it (text), decoded; anything else as it is."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def _value(column: Any, value: Any) -> Any:
    return (
        as_json(value) if isinstance(column, JSON | JSONB) and not isinstance(value, str) else value
    )


async def insert_row(row: Table) -> None:
    """INSERT every column of `row` (defaults already filled in by Piccolo's constructor)."""
    table = type(row)
    values = [_value(column, getattr(row, column._meta.name)) for column in table._meta.columns]
    await fetch(_insert_sql(table), *values)
