"""Entries an older gateway wrote under actions since renamed (`audit_action_names`) are found
under the catalogue name by every reader: the back office's audit screen, `audit export
--action`, the dashboard and `audit verify`'s check that each destroyed key has its erasure."""

from __future__ import annotations

from dataclasses import dataclass

from admin.dashboard_queries import read_dashboard
from audit.actions import Action, Subject
from audit.entry import SYSTEM, Actor, AuditEntry
from audit.export import AuditExport, ExportFilter
from audit.guards import guard_problems, unsealed_problems
from audit.store import append, subject_keys
from gateway.core.db.connection import fetch, transaction

FORGOTTEN = "the data key of subject cus_old is gone without an erasure entry"


@dataclass(frozen=True)
class Spelled:
    """An action as an older gateway wrote it: a string, stored, encrypted against and MACed as
    every entry is (`audit.store.append` reads no more of an action than this)."""

    value: str
    target_type: str
    subject: Subject = Subject.SYSTEM


async def _write(action: Spelled, about: dict[str, object], actor: Actor = SYSTEM) -> int:
    async with transaction():
        await append(AuditEntry(action=action, actor=actor, about=about, reason="the old name"))
    [row] = await fetch("SELECT max(id) AS id FROM audit_records")
    return int(row["id"])


async def test_old_spellings_read_as_their_catalogue_names_everywhere() -> None:
    rotated = await _write(Spelled("audit.keys.rotated", "audit"), {"id": "all"})
    lead = Actor(kind="staff", id="lena", role="team_lead")
    await _write(Spelled("change_request.apply.requested", "change_request"), {"id": 7}, lead)
    await _write(Spelled("audit.rotate_keys.succeeded", "audit"), {"id": "again"})

    [shown] = await fetch("SELECT action FROM audit_entries WHERE id = $1", rotated)
    assert shown["action"] == "audit.rotate_keys.succeeded"

    export = AuditExport(ExportFilter(action="audit.rotate_keys.succeeded"), decrypt=True)
    await export.start()
    assert await export.count() == 2
    lines = [line async for batch in export.batches() for line in batch]
    assert [(line["action"], line["action_name"]) for line in lines] == [
        ("audit.keys.rotated", "audit.rotate_keys.succeeded"),  # as stored, for its MAC
        ("audit.rotate_keys.succeeded", "audit.rotate_keys.succeeded"),
    ]
    assert lines[0]["payload"]["reason"] == "the old name"  # still bound to its metadata
    assert await unsealed_problems() == []  # and its MAC still matches

    dashboard = await read_dashboard("UTC", 24)
    assert [(day.action, day.count, day.username) for day in dashboard.daily] == [
        (Action.CHANGE_REQUEST_APPLY_STARTED.value, 1, None)  # lena has no staff account here
    ]


async def test_an_erasure_written_under_its_old_spelling_still_counts() -> None:
    await _write(Spelled("audit.read_entry.succeeded", "audit_entry", Subject.ENTRY), {
        "id": 1,
        "subject": "cus_old",
    })  # fmt: skip
    assert await subject_keys().forget("cus_old")
    assert FORGOTTEN in await guard_problems()

    await _write(Spelled("audit.subject.forgotten", "audit_subject"), {"id": "cus_old"})
    assert FORGOTTEN not in await guard_problems()
