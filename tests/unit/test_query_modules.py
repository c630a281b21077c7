"""Every SQL statement on a table family lives in that family's query module."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ("gateway", "admin", "audit", "adapters")
SKIPPED = (
    "gateway/migrations/",
    "gateway/core/db/new_migration.py",
)  # migrations, and their template

# One line per family: (its query module, a .py file or a package, without the suffix;
# the tables only that module may name in SQL).
FAMILIES = {
    "change_requests": ("gateway/change_requests/queries", ("change_requests",)),
    # Beside change_requests' module: change_requests reads the runs, and fulfilment imports it.
    "fulfilment": (
        "gateway/change_requests/fulfilment_queries",
        ("fulfilment_runs", "fulfilment_steps"),
    ),
    "corrections": ("gateway/corrections/queries", ("corrections", "correction_steps")),
    "cheques": (
        "gateway/cheques/queries",
        ("cheques", "cheque_batches", "cheque_batch_scans", "cheque_number_sequences"),
    ),
    "notifications": (
        "gateway/notifications/queries",
        (
            "notification_events",
            "notification_sequences",
            "notification_endpoints",
            "notification_deliveries",
            "notification_attempts",
        ),
    ),
    "staff": (
        "gateway/staff/queries",
        (
            "staff_users",
            "staff_sessions",
            "staff_recovery_codes",
            "staff_login_challenges",
            "staff_form_submissions",
        ),
    ),
    "fraud": (
        "gateway/fraud/queries",
        ("blocklist_entries", "blocklist_bulk_unblocks", "blocklist_imports"),
    ),
    "api_keys": ("gateway/api_keys/service", ("api_keys",)),
    "idempotency": ("gateway/idempotency/queries", ("idempotency_keys",)),
    "webhooks": ("gateway/webhooks/queries", ("webhook_events", "provider_watermarks")),
    "audit": (
        "audit/queries",
        (
            "audit_records",
            "audit_chain",
            "audit_checkpoints",
            "audit_checkpoint_deliveries",
            "audit_subject_keys",
            "audit_action_names",
        ),
    ),
}


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module (f-string pieces included), docstrings left out."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_family_tables_are_named_in_sql_only_in_its_query_module(family: str) -> None:
    module, tables = FAMILIES[family]
    names = "|".join(re.escape(table) for table in tables)
    # Not JOIN: a statement joining another family's table only to show a name (staff_users
    # for a username) stays with its own table's module.
    statement = re.compile(
        rf"\b(?:FROM|INTO|UPDATE|TABLE|TRUNCATE)\s+\"?(?:{names})\b", re.IGNORECASE
    )
    elsewhere = [
        f"{relative}:{line}"
        for folder in SOURCE
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not (relative := path.relative_to(ROOT).as_posix()).startswith((module, *SKIPPED))
        for line, text in sql_strings(path)
        if statement.search(text)
    ]
    assert elsewhere == [], f"SQL on {family} tables outside {module}"
