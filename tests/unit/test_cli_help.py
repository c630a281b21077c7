"""The commands' parameters as an operator meets them: roles and scopes are choices that
`--help` lists and the parser refuses with the list; progress bars only on a terminal."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from audit.export import FIELDS, ExportWriter
from gateway.api_keys.scopes import Scope
from gateway.cli import api_keys_cli
from gateway.cli_progress import progress_bar
from gateway.cli_users import users_cli
from gateway.staff.roles import Role


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(api_keys_cli, name="api-key")
    app.add_typer(users_cli, name="user")
    return app


def _flat(text: str) -> str:
    """Help and errors without rich's boxes and line wraps."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


def test_help_lists_every_scope_and_role(app: typer.Typer) -> None:
    runner = CliRunner()
    scopes = _flat(
        runner.invoke(app, ["api-key", "create", "--help"], env={"COLUMNS": "300"}).output
    )
    assert all(scope.value in scopes for scope in Scope), scopes
    for command in (["user", "create", "--help"], ["user", "set-role", "--help"]):
        roles = _flat(runner.invoke(app, command, env={"COLUMNS": "300"}).output)
        assert "specialist|team_lead|admin|operations" in roles.replace(" ", ""), roles


def test_a_wrong_scope_or_role_is_refused_by_the_parser_with_the_list(app: typer.Typer) -> None:
    runner = CliRunner()
    bad_scope = runner.invoke(app, ["api-key", "create", "--name", "x", "--scope", "everything"])
    assert bad_scope.exit_code == 2
    refusal = _flat(bad_scope.output)
    assert "'everything' is not one of" in refusal and "'fraud:screen'" in refusal
    bad_role = runner.invoke(app, ["user", "set-role", "nina", "boss"])
    assert bad_role.exit_code == 2
    assert "'boss' is not one of 'specialist', 'team_lead', 'admin', 'operations'" in _flat(
        bad_role.output
    )
    assert [role.value for role in Role] == ["specialist", "team_lead", "admin", "operations"]


def test_a_bar_is_drawn_on_a_terminal_and_not_elsewhere() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    with progress_bar("exporting entries", console=terminal) as bar:
        assert bar.shown
        bar.total(30)
        bar.advance(30)
    assert "exporting entries" in terminal.file.getvalue()  # type: ignore[attr-defined]
    assert "30/30" in terminal.file.getvalue()  # type: ignore[attr-defined]

    for console, enabled in (
        (Console(file=io.StringIO(), force_terminal=False), True),
        (Console(file=io.StringIO(), force_terminal=True), False),
    ):
        with progress_bar("exporting entries", console=console, enabled=enabled) as bar:
            assert not bar.shown
            bar.total(30)
            bar.advance(30)
        assert console.file.getvalue() == ""  # type: ignore[attr-defined]


def test_the_default_bar_needs_stderr_to_be_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # colours in CI logs: still no bar
    with progress_bar("verifying the chain") as bar:
        assert not bar.shown


def test_export_lines_in_both_formats() -> None:
    lines = [
        {**dict.fromkeys(FIELDS), "id": 1, "action": "a.b.c", "payload": {"reason": 'x, "y"'}},
        {**dict.fromkeys(FIELDS), "id": 2, "action": "a.b.d", "payload": None},
    ]
    as_csv = io.StringIO()
    ExportWriter(as_csv, "csv", decrypt=True).write(lines)
    rows = list(csv.DictReader(io.StringIO(as_csv.getvalue())))
    assert as_csv.getvalue().splitlines()[0] == ",".join([*FIELDS, "payload"])
    assert [row["id"] for row in rows] == ["1", "2"]
    assert json.loads(rows[0]["payload"]) == {"reason": 'x, "y"'} and rows[1]["payload"] == ""
    as_jsonl = io.StringIO()
    ExportWriter(as_jsonl, "jsonl", decrypt=True).write(lines)
    assert [json.loads(line) for line in as_jsonl.getvalue().splitlines()] == lines
