"""Bulk blocklist imports: rows are read and checked when the import is filed (an IBAN is
hashed there, so no IBAN is ever stored in clear, even in a queued import), then a background
job blocks them one by one and records each row's outcome. A job stopped half-way and run
again finds the rows it already blocked (their entries name the import) and carries on."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar.status_codes import HTTP_202_ACCEPTED

from audit import Actor, AuditEntry, append
from audit.actions import Action
from gateway.core.catalogues import as_plain_json
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.core.sensitive import redact_text
from gateway.fraud import queries
from gateway.fraud.schemas import (
    BlocklistEntryCreate,
    BlocklistImportCreate,
    BlocklistImportRead,
    ImportRowResult,
)
from gateway.fraud.service import BlocklistService, refuse_sensitive_free_text, source_ticket
from gateway.i18n import Message
from gateway.idempotency.answers import AnswerSlot, earlier_answer, store_answer

_log = get_logger("fraud")
# A running import whose job has said nothing for this long died with its process.
CSV_COLUMNS = ("kind", "value", "reason", "source_ticket", "expires_at")
MAX_ROWS = 10_000


def _csv_rows(text: str) -> list[dict[str, Any]]:
    # newline="": the csv module reads line ends itself, so a \r inside a quoted field is data
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        missing = {"kind", "value", "reason"} - set(reader.fieldnames or [])
        if missing:
            raise BillingError(
                ErrorCode.BLOCKLIST_IMPORT_INVALID,
                Message(
                    "The CSV's first line must name its columns: kind,value,reason and "
                    "optionally source_ticket,expires_at (missing: {missing}).",
                    missing=", ".join(sorted(missing)),
                ),
            )
        return [
            {name: (row.get(name) or None) for name in CSV_COLUMNS}
            for row in reader
            if any((value or "").strip() for value in row.values() if isinstance(value, str))
        ]
    except csv.Error:
        raise BillingError(
            ErrorCode.BLOCKLIST_IMPORT_INVALID,
            Message(
                "The CSV cannot be read at line {line}: quote any field that holds a comma, a "
                "quote or a line break, and end each row with a line break.",
                line=reader.line_num,
            ),
        ) from None


def _refused(number: int, error: BillingError | msgspec.ValidationError) -> Any:
    code = error.code.value if isinstance(error, BillingError) else "validation_failed"
    # msgspec repeats a bad value ("Invalid enum value '…'"): the row is stored, so masked;
    # stored as its English text (msgspec encodes no Message).
    detail = redact_text(str(error.detail) if isinstance(error, BillingError) else str(error))
    return msgspec.to_builtins(
        ImportRowResult(row=number, outcome="refused", code=code, detail=detail)
    )


def _to_read(row: dict[str, Any]) -> BlocklistImportRead:
    results = msgspec.json.decode(row["results"]) if row["results"] else None
    return BlocklistImportRead(
        id=row["id"],
        status=row["status"],
        total=row["total"],
        blocked=row["blocked"],
        refused=row["refused"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        results=msgspec.convert(results, list[ImportRowResult]) if results else None,
    )


class BlocklistImports:
    def __init__(self, blocklist: BlocklistService) -> None:
        self._blocklist = blocklist

    async def queue(
        self, body: BlocklistImportCreate, actor: Actor, *, answer: AnswerSlot | None = None
    ) -> BlocklistImportRead:
        if (body.entries is None) == (body.csv is None):
            raise BillingError(
                ErrorCode.BLOCKLIST_IMPORT_INVALID,
                Message("Give either entries (JSON) or csv, not both."),
            )
        raw = (
            [msgspec.to_builtins(entry) for entry in body.entries]
            if body.entries is not None
            else _csv_rows(body.csv or "")
        )
        if not raw or len(raw) > MAX_ROWS:
            raise BillingError(
                ErrorCode.BLOCKLIST_IMPORT_INVALID,
                Message(
                    "An import holds 1 to {most} rows; this one has {rows}.",
                    most=MAX_ROWS,
                    rows=len(raw),
                ),
            )
        rows = [self._checked(number, item) for number, item in enumerate(raw, start=1)]
        import_id = uuid.uuid4()
        async with transaction():
            earlier = await earlier_answer(answer, BlocklistImportRead)
            if earlier is not None:  # a retry that took over from a slow first attempt
                return earlier
            [row] = await fetch(
                queries.INSERT_IMPORT,
                import_id,
                msgspec.json.encode(rows, enc_hook=as_plain_json).decode(),
                len(rows),
                actor.kind,
                actor.id,
            )
            await append(
                AuditEntry(
                    action=Action.BLOCKLIST_IMPORT_STARTED,
                    actor=actor,
                    about={},
                    target_id=str(import_id),
                    after={"rows": len(rows)},
                )
            )
            queued = _to_read(row)
            await store_answer(answer, HTTP_202_ACCEPTED, queued)
        await self._defer(import_id)
        return queued

    def _checked(self, number: int, item: dict[str, Any]) -> dict[str, Any]:
        """The row as the job will block it (IBAN hashed), or its refusal: nothing of a refused
        row is kept but its number and why."""
        try:
            # Every column but the value first: msgspec's refusal would quote a bad kind.
            refuse_sensitive_free_text(
                *(text for name, text in item.items() if name != "value" and isinstance(text, str))
            )
            entry = msgspec.convert(item, BlocklistEntryCreate, strict=False)
            refuse_sensitive_free_text(entry.reason, entry.source_ticket)
            entry = msgspec.structs.replace(entry, source_ticket=source_ticket(entry.source_ticket))
            value, display = self._blocklist.stored_form(entry.kind, entry.value)
        except (BillingError, msgspec.ValidationError) as error:
            return {"result": _refused(number, error)}
        row = msgspec.to_builtins(entry)
        row.update(value=value, display=display)
        return {"row": number, "entry": row}

    async def _defer(self, import_id: uuid.UUID) -> None:
        """Hand the import to a job; if the queue is unreachable, the minute sweep finds it."""
        from gateway.fraud.jobs import run_import

        try:
            await run_import.defer_async(import_id=str(import_id))
        except Exception as error:
            _log.warning("blocklist import not deferred; the sweep will run it", error=str(error))

    async def unfinished(self) -> list[uuid.UUID]:
        """Imports whose job never started, or stopped half-way (its process died)."""
        rows = await fetch(queries.UNFINISHED_IMPORTS)
        return [row["id"] for row in rows]

    async def get(self, import_id: uuid.UUID) -> BlocklistImportRead:
        rows = await fetch(queries.IMPORT, import_id)
        if not rows:
            raise BillingError(
                ErrorCode.BLOCKLIST_IMPORT_NOT_FOUND,
                Message("No blocklist import has the id {import_id}.", import_id=str(import_id)),
            )
        return _to_read(rows[0])

    async def run(self, import_id: uuid.UUID) -> int:
        """Block every checked row; the number of rows done."""
        claimed = await fetch(queries.CLAIM_IMPORT, import_id)
        if not claimed:  # done, or another job is running it
            return 0
        [job] = claimed
        actor = Actor(kind=job["author_type"], id=job["author_id"])
        results = [
            await self._run_row(import_id, item, actor) for item in msgspec.json.decode(job["rows"])
        ]
        blocked = sum(1 for result in results if result["outcome"] != "refused")
        async with transaction():
            await fetch(
                queries.FINISH_IMPORT,
                import_id,
                msgspec.json.encode(results, enc_hook=as_plain_json).decode(),
                blocked,
                len(results) - blocked,
            )
            await append(
                AuditEntry(
                    action=Action.BLOCKLIST_IMPORT_SUCCEEDED,
                    actor=actor,
                    about={},
                    target_id=str(import_id),
                    after={"blocked": blocked, "refused": len(results) - blocked},
                )
            )
        return len(results)

    async def _run_row(self, import_id: uuid.UUID, item: dict[str, Any], actor: Actor) -> Any:
        """The row's result, as stored (plain JSON)."""
        if "result" in item:
            return dict(item["result"])
        entry = item["entry"]
        number = item["row"]
        done_before = await fetch(queries.IMPORTED, import_id, entry["kind"], entry["value"])
        if done_before:
            return msgspec.to_builtins(
                ImportRowResult(row=number, outcome="blocked", entry_id=done_before[0]["id"])
            )
        create = BlocklistEntryCreate(
            kind=entry["kind"],
            value=entry["value"],
            reason=entry["reason"],
            source_ticket=entry.get("source_ticket"),
            expires_at=datetime.fromisoformat(entry["expires_at"])
            if entry.get("expires_at")
            else None,
        )
        try:
            read = await self._blocklist.block(
                create, actor, import_id=import_id, stored=(entry["value"], entry["display"])
            )
        except BillingError as error:
            if error.code is ErrorCode.BLOCKLIST_ENTRY_EXISTS:
                existing = (error.extra or {}).get("existing_id")
                return msgspec.to_builtins(
                    ImportRowResult(
                        row=number,
                        outcome="already_blocked",
                        entry_id=int(existing) if existing else None,
                    )
                )
            return _refused(number, error)
        return msgspec.to_builtins(ImportRowResult(row=number, outcome="blocked", entry_id=read.id))
