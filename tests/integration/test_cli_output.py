"""The commands' machine output and progress, run as an operator runs them (their own process,
against this run's PostgreSQL): `--json` lists, the streamed audit export in both formats, and
progress bars only on a terminal."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from pathlib import Path

from audit.actions import Action
from audit.chain import seal_pending
from audit.entry import SYSTEM, Actor, AuditEntry
from audit.export import FIELDS, AuditExport, ExportFilter
from audit.store import append
from gateway.api_keys.scopes import Scope
from gateway.api_keys.service import issue_key
from gateway.core.db.connection import fetch, transaction
from gateway.staff.roles import Role
from gateway.staff.service import create_staff

OPERATOR = Actor(kind="staff", id="tester", role="cli")
# A terminal, as far as the bar is concerned: rich's own switch for "this is a tty".
NO_TERMINAL = {"TTY_COMPATIBLE": "", "TTY_INTERACTIVE": "", "FORCE_COLOR": ""}
TERMINAL = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "120"}


async def _gateway(*arguments: str, **environment: str) -> tuple[int, str, str]:
    settings = {**os.environ, "BG_LOG_FORMAT": "json", **NO_TERMINAL, **environment}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *arguments,
        env={name: value for name, value in settings.items() if value},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    return process.returncode or 0, out.decode(), err.decode()


async def _write_entries(count: int, subject: str = "cus_export") -> None:
    async with transaction():
        for number in range(count):
            await append(
                AuditEntry(
                    action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                    actor=SYSTEM,
                    target_id=str(number),
                    about={"backoffice_id": subject},
                    after={"number": number, "note": 'a "quoted", comma'},
                )
            )
    await seal_pending()


async def test_list_commands_print_one_json_document() -> None:
    issued = await issue_key("zendesk-app", [Scope.FRAUD_SCREEN], actor=OPERATOR)
    await create_staff("nina", "nina@example.com", Role.TEAM_LEAD, OPERATOR)

    code, out, err = await _gateway("api-key", "list", "--json")
    assert code == 0, err
    [key] = json.loads(out)  # the whole of stdout is the document
    assert key["prefix"] == issued.prefix and key["name"] == "zendesk-app"
    assert key["state"] == "active" and key["scopes"] == ["fraud:screen"]
    assert set(key) == {
        "prefix",
        "name",
        "client",
        "state",
        "scopes",
        "rate_limit_per_minute",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }
    assert issued.secret not in out + err

    code, out, err = await _gateway("user", "list", "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {"username": "nina", "role": "team_lead", "active": True, "mfa": False, "locked": False}
    ]


async def test_export_streams_both_formats_entry_for_entry(tmp_path: Path) -> None:
    await _write_entries(2500)
    await append(
        AuditEntry(action=Action.STAFF_LOGOUT_SUCCEEDED, actor=SYSTEM, about={}, target_id="x")
    )
    wanted = await fetch(
        "SELECT id FROM audit_records WHERE action = 'change_request.contact_reasons.recorded'"
    )

    as_jsonl, as_csv = tmp_path / "trail.jsonl", tmp_path / "trail.csv"
    filtered = ("--action", "change_request.contact_reasons.recorded")
    code, out, err = await _gateway("audit", "export", *filtered, "--output", str(as_jsonl))
    assert code == 0, err
    assert out == ""  # the entries went to the file
    lines = [json.loads(line) for line in as_jsonl.read_text().splitlines()]
    assert [line["id"] for line in lines] == sorted(row["id"] for row in wanted)
    assert set(lines[0]) == set(FIELDS) and lines[0]["seq"] is not None

    code, out, err = await _gateway(
        "audit", "export", *filtered, "--format", "csv", "-o", str(as_csv),
        "--decrypt", "--reason", "yearly review",
    )  # fmt: skip
    assert code == 0, err
    text = as_csv.read_text()
    assert text.splitlines()[0] == ",".join([*FIELDS, "payload"])
    assert len(text.splitlines()) == 1 + len(wanted)  # one line per entry, quotes and all
    rows = list(csv.DictReader(text.splitlines()))
    assert [int(row["id"]) for row in rows] == [line["id"] for line in lines]
    assert [{key: row[key] for key in ("action", "target_id")} for row in rows[:2]] == [
        {"action": "change_request.contact_reasons.recorded", "target_id": "0"},
        {"action": "change_request.contact_reasons.recorded", "target_id": "1"},
    ]
    assert json.loads(rows[7]["payload"])["after"] == {"number": 7, "note": 'a "quoted", comma'}
    [reading] = await fetch("SELECT * FROM audit_records WHERE action = 'audit.export.started'")
    assert reading["target_id"] == f"{len(wanted)} entries"

    code, out, err = await _gateway("audit", "export", *filtered, "--format", "csv")
    assert code == 0, err
    assert len(out.splitlines()) == 1 + len(wanted)  # no --output: standard output


async def test_an_export_reads_in_batches_and_covers_what_existed_when_it_started() -> None:
    await _write_entries(25)
    export = AuditExport(
        ExportFilter(action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED), decrypt=False, batch=10
    )
    await export.start()
    await _write_entries(5)  # written during the export: not part of it
    sizes = [len(batch) async for batch in export.batches()]
    assert sizes == [10, 10, 5]
    assert await export.count() == 25


async def test_progress_bars_on_a_terminal_only() -> None:
    await _write_entries(300)

    code, _out, err = await _gateway("audit", "verify", **TERMINAL)
    assert code == 0, err
    assert "verifying the chain" in err and "300/300" in err

    code, out, err = await _gateway("audit", "export", **TERMINAL)
    assert code == 0, err
    assert "exporting entries" in err and "exporting" not in out
    assert all(line.startswith("{") for line in out.splitlines())

    for quiet in (await _gateway("audit", "verify"), await _gateway(
        "audit", "verify", "--no-progress", **TERMINAL
    )):  # fmt: skip
        code, _out, err = quiet
        assert code == 0, err
        assert "verifying the chain" not in err and "\x1b[" not in err
