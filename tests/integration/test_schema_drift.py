"""The table classes say what the migrated database holds: every Table subclass in the project
(found by walking its packages, so a new one cannot be forgotten) has exactly its table's or
view's columns, with their types, nullability and varchar lengths; and every table of the
database has a class, or a line below saying why it has none."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from piccolo.columns import Array, Column, ForeignKey, Varchar
from piccolo.table import Table

from tests.database import superuser

PACKAGES = ("adapters", "admin", "audit", "gateway")
NOT_IMPORTED = ("gateway.__main__", "gateway.asgi")  # entry points: they start things

# Tables only raw SQL reads and writes (the module that does is named): no class to drift.
WITHOUT_CLASS = {
    "migration": "Piccolo's own record of the migrations applied",
    "audit_action_names": "raw SQL: audit_action(), audit_spellings() (old spellings)",
    "audit_chain": "raw SQL: audit/chain.py, audit/reading.py",
    "audit_checkpoints": "raw SQL: audit/checkpoints.py",
    "audit_checkpoint_deliveries": "raw SQL: audit/sinks.py",
    "audit_subject_keys": "raw SQL: audit/keys.py, audit/store.py",
    "blocklist_entries": "raw SQL: gateway/fraud/queries.py and its neighbours",
    "blocklist_imports": "raw SQL: gateway/fraud/imports.py",
    "blocklist_bulk_unblocks": "raw SQL: gateway/fraud/bulk_unblock.py",
    "cheques": "raw SQL: gateway/cheques/queries.py",
    "cheque_batches": "raw SQL: gateway/cheques/queries.py",
    "cheque_batch_scans": "raw SQL: gateway/cheques/queries.py",
    "cheque_number_sequences": "raw SQL: gateway/cheques/queries.py",
    "notification_events": "raw SQL: gateway/notifications/queries.py",
    "notification_sequences": "raw SQL: gateway/notifications/queries.py",
    "provider_watermarks": "raw SQL: gateway/webhooks/zuora_pull.py",
    "rate_limit_windows": "raw SQL: gateway/edge/limits_storage.py",
    "staff_form_submissions": "raw SQL: admin/form_tokens.py",
    "webhook_events": "raw SQL: gateway/webhooks/inbox.py",
}

# information_schema's udt_name -> the column types Piccolo declares for it
_TYPES = {
    "bool": {"BOOLEAN"},
    "bytea": {"BYTEA"},
    "date": {"DATE"},
    "int4": {"INTEGER", "SERIAL"},
    "int8": {"BIGINT", "BIGSERIAL"},
    "jsonb": {"JSONB"},
    "numeric": {"NUMERIC"},
    "text": {"TEXT"},
    "timestamp": {"TIMESTAMP"},
    "timestamptz": {"TIMESTAMPTZ"},
    "uuid": {"UUID"},
    "varchar": {"VARCHAR"},
}

_COLUMNS = """
SELECT c.table_name, c.column_name, c.udt_name, c.is_nullable = 'YES' AS nullable,
       c.character_maximum_length AS length, t.table_type = 'VIEW' AS is_view,
       e.udt_name AS element, e.character_maximum_length AS element_length
  FROM information_schema.columns c
  JOIN information_schema.tables t USING (table_schema, table_name)
  LEFT JOIN information_schema.element_types e
    ON e.object_schema = c.table_schema AND e.object_name = c.table_name
   AND e.object_type = 'TABLE' AND e.collection_type_identifier = c.dtd_identifier
 WHERE c.table_schema = 'public' AND c.table_name NOT LIKE 'procrastinate%'
"""


def _modules(package: str) -> Iterator[str]:
    yield package
    root = importlib.import_module(package)
    for found in pkgutil.walk_packages(root.__path__, f"{package}."):
        if not found.name.startswith(NOT_IMPORTED) and ".migrations." not in found.name:
            yield found.name


def table_classes() -> list[type[Table]]:
    for package in PACKAGES:
        for name in _modules(package):
            importlib.import_module(name)
    found: list[type[Table]] = []
    pending = list(Table.__subclasses__())
    while pending:
        table = pending.pop()
        pending += table.__subclasses__()
        if table.__module__.split(".")[0] in PACKAGES:
            found.append(table)
    return found


# A view's class also picks the back office's widget (Text: a text area; Timestamptz: shown in
# the reader's zone) and its filters' limits: there a string is a string, of any length, and a
# timestamp a timestamp.
_VIEW_TYPES = {**_TYPES, "text": {"TEXT", "VARCHAR"}, "varchar": {"TEXT", "VARCHAR"}}
_VIEW_TYPES["timestamp"] = _VIEW_TYPES["timestamptz"] = {"TIMESTAMP", "TIMESTAMPTZ"}


def _declared(column: Column, is_view: bool) -> tuple[set[str], int | None]:
    """The udt names the column may be, and its varchar length (None: any)."""
    if isinstance(column, ForeignKey):
        column = column._foreign_key_meta.resolved_target_column
    if isinstance(column, Array):
        base, length = _declared(column.base_column, is_view)
        return {f"_{udt}" for udt in base}, length
    kind = column.column_type.split("(")[0]  # VARCHAR(100)
    udts = {udt for udt, types in (_VIEW_TYPES if is_view else _TYPES).items() if kind in types}
    return udts, column.length if isinstance(column, Varchar) and not is_view else None


def drift(table: type[Table], database: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    name = table._meta.tablename
    if name not in database:
        return [f"{table.__name__}: no table or view {name!r} in the database"]
    actual = database[name]
    problems = []
    declared = {column._meta.db_column_name: column for column in table._meta.columns}
    for column_name in sorted(actual.keys() - declared.keys()):
        problems.append(f"{name}.{column_name}: in the database, not in {table.__name__}")
    for column_name in sorted(declared.keys() - actual.keys()):
        problems.append(f"{name}.{column_name}: in {table.__name__}, not in the database")
    for column_name in sorted(declared.keys() & actual.keys()):
        column, row = declared[column_name], actual[column_name]
        udts, length = _declared(column, bool(row["is_view"]))
        udt = str(row["udt_name"])
        stored_length = row["element_length"] if udt.startswith("_") else row["length"]
        if udt not in udts:
            problems.append(f"{name}.{column_name}: {udt} in the database, {udts} declared")
        elif length is not None and stored_length is not None and length != stored_length:
            problems.append(f"{name}.{column_name}: varchar({stored_length}), declared {length}")
        # A view's columns are all nullable to information_schema: only tables say.
        if not row["is_view"] and bool(column._meta.null) != row["nullable"]:
            problems.append(
                f"{name}.{column_name}: nullable {row['nullable']} in the database,"
                f" null={column._meta.null} declared"
            )
    return problems


@pytest.fixture
async def database_columns(database_url: str) -> dict[str, dict[str, dict[str, object]]]:
    async with superuser() as connection:
        rows = await connection.fetch(_COLUMNS)
    columns: dict[str, dict[str, dict[str, object]]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], {})[row["column_name"]] = dict(row)
    return columns


def test_every_table_class_matches_its_table(
    database_columns: dict[str, dict[str, dict[str, object]]],
) -> None:
    problems = [problem for table in table_classes() for problem in drift(table, database_columns)]
    assert not problems, "\n".join(problems)


def test_every_table_has_a_class_or_a_reason(
    database_columns: dict[str, dict[str, dict[str, object]]],
) -> None:
    classes = {table._meta.tablename for table in table_classes()}
    views = {name for name, columns in database_columns.items() if _is_view(columns)}
    tables = set(database_columns) - views
    assert sorted(tables - classes - WITHOUT_CLASS.keys()) == [], "a table without a class"
    assert sorted(WITHOUT_CLASS.keys() & classes) == [], "listed, yet it has a class"
    assert sorted(WITHOUT_CLASS.keys() - tables) == [], "listed, yet not in the database"


def _is_view(columns: dict[str, dict[str, object]]) -> bool:
    return any(row["is_view"] for row in columns.values())
