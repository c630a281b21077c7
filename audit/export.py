"""Exporting the trail, oldest first: entries are read in keyset-paginated batches (by id) and
written as they come, so an export of any size holds one batch in memory. Metadata always; with
`decrypt`, the payloads too (erased ones stay erased), once the reading is on record.

An export covers the entries that existed when it started (ids up to the newest one then):
the count it records, its progress total and the lines it writes agree, and its own record of
a decrypting reading is not part of it."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TextIO

from audit import queries
from audit.actions import Action
from audit.entry import Actor, AuditEntry
from audit.store import append, read_payload
from gateway.core.db.connection import fetch, fetch_value, transaction

# The fields of a line, in this order (a CSV's header); `payload` last, with `decrypt` only.
FIELDS = (
    "seq",
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",  # as stored, bound into the MAC
    "action_name",  # its catalogue name (`audit.actions`), the same unless renamed since
    "target_type",
    "target_id",
    "request_id",
    "subject",
    "mac",
)
BATCH = 1000
ExportFormat = Literal["jsonl", "csv"]


@dataclass(frozen=True)
class ExportFilter:
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    subject: str | None = None

    def arguments(self) -> tuple[Any, ...]:
        return self.since, self.until, self.action, self.subject

    def described(self) -> dict[str, str | None]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "action": self.action,
            "subject": self.subject,
        }


class AuditExport:
    """One export: `await start()` fixes what it covers, then `count()`, `record_reading()`
    and `batches()`."""

    def __init__(self, filters: ExportFilter, *, decrypt: bool, batch: int = BATCH) -> None:
        self.filters, self.decrypt, self.batch = filters, decrypt, batch
        self.ceiling = 0

    async def start(self) -> None:
        self.ceiling = int(await fetch_value(queries.NEWEST_ENTRY))

    async def count(self) -> int:
        return int(await fetch_value(queries.EXPORT_COUNT, self.ceiling, *self.filters.arguments()))

    async def record_reading(self, entries: int, reason: str, reader: Actor) -> None:
        """Before the first payload is read: who reads how many entries, and why."""
        async with transaction():
            await append(
                AuditEntry(
                    action=Action.AUDIT_EXPORT_STARTED,
                    actor=reader,
                    about={},
                    target_id=f"{entries} entries",
                    reason=reason,
                    after=self.filters.described(),
                )
            )

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        """The lines, a batch at a time (the next batch is read once this one is written)."""
        last_id = 0
        while True:
            rows = await fetch(
                queries.EXPORT_PAGE, self.ceiling, *self.filters.arguments(), last_id, self.batch
            )
            if not rows:
                return
            last_id = rows[-1]["id"]
            yield [await self._line(row) for row in rows]

    async def _line(self, row: dict[str, Any]) -> dict[str, Any]:
        line = {
            name: (row[name].isoformat() if isinstance(row[name], datetime) else row[name])
            for name in FIELDS
        }
        if self.decrypt:
            line["payload"] = await read_payload(row)
        return line


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula ("=HYPERLINK(...)" as a subject) starts
    with a quote instead (OWASP's CSV injection advice); numbers and the rest are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


class ExportWriter:
    """JSON lines, or CSV with a header (the payload, if any, as JSON text in its column)."""

    def __init__(self, out: TextIO, form: ExportFormat, *, decrypt: bool) -> None:
        self._out, self._form = out, form
        self._csv: csv.DictWriter[str] | None = None
        if form == "csv":
            self._csv = csv.DictWriter(
                out, fieldnames=[*FIELDS, *(("payload",) if decrypt else ())], lineterminator="\n"
            )
            self._csv.writeheader()

    def write(self, lines: list[dict[str, Any]]) -> None:
        for line in lines:
            if self._csv is not None:
                payload = line.get("payload")
                if payload is not None:
                    line = {**line, "payload": json.dumps(payload, ensure_ascii=False)}
                self._csv.writerow({name: _inert(value) for name, value in line.items()})
            else:
                self._out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self._out.flush()
