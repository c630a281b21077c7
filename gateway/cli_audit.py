"""`billing-gateway audit ...`: seal, checkpoint, verify, rotate-keys, forget."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from audit.actions import Action
from gateway.cli_context import load_settings, operator_name, run_with_database
from gateway.cli_progress import NoProgress

audit_cli = typer.Typer(
    help="The audit trail: chain, checkpoints, keys, erasure.", no_args_is_help=True
)


def _run(work: Callable[[], Awaitable[Any]]) -> Any:
    load_settings()
    return run_with_database(work)


@audit_cli.command("seal")
def seal() -> None:
    """Chain the entries written since the last seal."""
    from audit.chain import seal_pending

    typer.echo(f"sealed {_run(seal_pending)} entries")


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Seal, then sign the chain's head once it verifies from the last checkpoint, and copy it
    (with any the sink has not taken yet) to BG_AUDIT_CHECKPOINT_SINK: a directory (default
    <data dir>/audit/checkpoints.jsonl), an http(s):// endpoint, or stdout."""
    from audit.checkpoints import ChainBrokenError, write_checkpoint
    from audit.sinks import configured_sink
    from settings import get_settings

    async def work() -> Any:
        return await write_checkpoint(get_settings().audit_signing_seed, configured_sink())

    try:
        signed = _run(work)
    except ChainBrokenError as broken:
        typer.echo(f"NOT SIGNED: the chain does not verify: {broken}", err=True)
        raise typer.Exit(1) from None
    typer.echo(signed.to_json() if signed else "the audit trail is empty")


@audit_cli.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="checkpoints kept outside the database, as JSON lines: the directory sink's"
            " checkpoints.jsonl, or what the HTTP receiver or the log shipper kept"
        ),
    ] = None,
    no_progress: NoProgress = False,
) -> None:
    """Check the whole chain (and the signed checkpoints); name the first bad entry. Then the
    guards: triggers, the gateway's database role, quiet erasures, data keys that no longer
    unwrap with BG_ENCRYPTION_KEYS (named by subject), unsealed entries' MACs.

    Without --checkpoint the checkpoints are the database's own, which a rewrite of the
    database can rewrite too: give the off-host copy to catch that."""
    from audit.chain import verify as verify_chain
    from audit.checkpoints import (
        against_checkpoints,
        public_key_of,
        read_checkpoints,
        stored_checkpoints,
    )
    from audit.guards import describe_backwards, guard_problems, unsealed_problems
    from audit.queries import CHAIN_LENGTH
    from gateway.cli_progress import progress_bar
    from gateway.core.db.connection import fetch_value
    from settings import get_settings

    async def work() -> tuple[Any, str | None, int, list[str]]:
        with progress_bar("verifying the chain", enabled=not no_progress) as bar:
            if bar.shown:
                bar.total(int(await fetch_value(CHAIN_LENGTH)))
            verdict = await verify_chain(progress=bar.advance)
        kept = read_checkpoints(checkpoint) if checkpoint else await stored_checkpoints()
        problem = None
        if verdict.ok:
            problem = await against_checkpoints(
                kept, public_key_of(get_settings().audit_signing_seed)
            )
        return verdict, problem, len(kept), await guard_problems() + await unsealed_problems()

    verdict, problem, kept, guards = _run(work)
    for warning in describe_backwards(verdict):
        typer.echo(f"WARNING: {warning}", err=True)
    for guard in guards:
        typer.echo(f"GUARD: {guard}", err=True)
    if not verdict.ok:
        typer.echo(
            f"BROKEN at entry {verdict.first_bad_seq}: {verdict.problem}"
            f" ({verdict.entries} entries before it verified)",
            err=True,
        )
        raise typer.Exit(1)
    if problem:
        typer.echo(f"BROKEN: {problem}", err=True)
        raise typer.Exit(1)
    legacy = f" ({verdict.legacy} from before MACs: chain only)" if verdict.legacy else ""
    typer.echo(
        f"{'ok' if not guards else 'chain ok, guards NOT'}: {verdict.entries} entries{legacy},"
        f" head {verdict.head_seq} {verdict.head_hash[:16]}…, {kept} signed checkpoints agree"
    )
    if checkpoint is None:
        typer.echo(_where_the_copy_is(), err=True)
    if guards:
        raise typer.Exit(1)


def _where_the_copy_is() -> str:
    from audit.sinks import DirectorySink, configured_sink

    sink = configured_sink()
    if isinstance(sink, DirectorySink):
        where = f"--checkpoint {sink.path}, or a copy of it kept elsewhere"
    else:
        where = f"--checkpoint FILE, after fetching the copy from where it went ({sink.name})"
    return (
        "NOTE: checked against the checkpoints in the database; to catch a consistent rewrite"
        f" of the database, check against the off-host copy: {where}"
    )


@audit_cli.command("rotate-keys")
def rotate_keys(no_progress: NoProgress = False) -> None:
    """Re-wrap every subject's data key under the active key of BG_ENCRYPTION_KEYS (put the new
    key first). Stopped half-way, run it again: it carries on."""
    from audit.entry import SYSTEM, AuditEntry
    from audit.store import append, subject_keys
    from gateway.cli_progress import progress_bar
    from gateway.core.db.connection import transaction

    async def started(kek_id: str, pending: int) -> None:
        # Committed before the first key is re-wrapped: a run that dies half-way still left
        # a record of what it set out to do (the rerun records its own, for what is left).
        async with transaction():
            await append(
                AuditEntry(
                    action=Action.AUDIT_ROTATE_KEYS_STARTED,
                    actor=SYSTEM,
                    about={},
                    target_id="subject_keys",
                    after={"kek_id": kek_id, "to_rewrap": pending},
                )
            )

    async def work() -> int:
        with progress_bar("re-wrapping data keys", enabled=not no_progress) as bar:

            async def counted(kek_id: str, pending: int) -> None:
                bar.total(pending)
                await started(kek_id, pending)

            done = await subject_keys().rewrap_all(before_first=counted, rewrapped=bar.advance)
        async with transaction():
            await append(
                AuditEntry(
                    action=Action.AUDIT_ROTATE_KEYS_SUCCEEDED,
                    actor=SYSTEM,
                    about={},
                    target_id="subject_keys",
                    after={"rewrapped": done},
                )
            )
        return done

    typer.echo(f"re-wrapped {_run(work)} data keys")


@audit_cli.command("forget")
def forget(subject: str, reason: Annotated[str, typer.Option(help="for the record")]) -> None:
    """Destroy SUBJECT's data key: their payloads read as erased; the chain still verifies."""
    from audit.erasure import forget_subject

    async def work() -> bool:
        return await forget_subject(subject, reason)

    typer.echo(f"forgot {subject}" if _run(work) else f"{subject} had nothing to forget")


class ExportFormatChoice(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from None


@audit_cli.command("export")
def export(
    since: Annotated[str | None, typer.Option(help="from this time (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option(help="before this time (ISO 8601)")] = None,
    action: Annotated[str | None, typer.Option(help="only this action")] = None,
    subject: Annotated[str | None, typer.Option(help="only this subject")] = None,
    decrypt: Annotated[
        bool, typer.Option(help="include payloads (recorded in the trail as a reading)")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="why, required with --decrypt")] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="write to this file ('-': standard output)")
    ] = "-",
    form: Annotated[
        ExportFormatChoice,
        typer.Option("--format", help="JSON lines, or CSV with a header line"),
    ] = ExportFormatChoice.jsonl,
    no_progress: NoProgress = False,
) -> None:
    """Entries oldest first, one a line, written as they are read (in batches: any size of
    trail in little memory): metadata, and with --decrypt the payloads (erased ones stay
    erased; in CSV, the payload column holds JSON)."""
    from audit.entry import Actor
    from audit.export import AuditExport, ExportFilter, ExportWriter
    from gateway.cli_progress import progress_bar

    if decrypt and not reason:
        typer.echo("--decrypt needs --reason: the reading is recorded with it", err=True)
        raise typer.Exit(2)
    filters = ExportFilter(_moment(since, "--since"), _moment(until, "--until"), action, subject)
    exporting = AuditExport(filters, decrypt=decrypt)

    async def work(out: TextIO) -> None:
        with progress_bar("exporting entries", enabled=not no_progress) as bar:
            await exporting.start()
            if bar.shown or decrypt:
                entries = await exporting.count()
                bar.total(entries)
                if decrypt:
                    reader = Actor(kind="staff", id=operator_name(), role="cli")
                    await exporting.record_reading(entries, reason or "", reader)
            writer = ExportWriter(out, form.value, decrypt=decrypt)
            async for lines in exporting.batches():
                writer.write(lines)
                bar.advance(len(lines))

    if output == "-":
        _run(lambda: work(sys.stdout))
        return
    # Only its owner reads an export (decrypted payloads are personal data); one that stops
    # half-way is removed rather than left looking whole.
    target = Path(output)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode otherwise
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as out:
            _run(lambda: work(out))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
