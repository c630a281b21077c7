"""`billing-gateway audit ...`: seal, checkpoint, verify, rotate-keys, forget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

audit_cli = typer.Typer(
    help="The audit trail: chain, checkpoints, keys, erasure.", no_args_is_help=True
)


def _run(work: Callable[[], Awaitable[Any]]) -> Any:
    from gateway.cli import _run as run_with_database
    from gateway.cli import _settings

    _settings()
    return run_with_database(work)


def _folder() -> Path:
    from settings import get_settings

    return get_settings().data_dir / "audit"


@audit_cli.command("seal")
def seal() -> None:
    """Chain the entries written since the last seal."""
    from audit.chain import seal_pending

    typer.echo(f"sealed {_run(seal_pending)} entries")


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Seal, then sign the chain's head (appended to <data dir>/audit/checkpoints.jsonl)."""
    from audit.checkpoints import write_checkpoint
    from settings import get_settings

    async def work() -> Any:
        return await write_checkpoint(get_settings().audit_signing_seed, _folder())

    signed = _run(work)
    typer.echo(signed.to_json() if signed else "the audit trail is empty")


@audit_cli.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None, typer.Option(help="a checkpoints.jsonl kept outside the database")
    ] = None,
) -> None:
    """Check the whole chain (and the signed checkpoints); name the first bad entry."""
    from audit.chain import verify as verify_chain
    from audit.checkpoints import (
        against_checkpoints,
        public_key_of,
        read_checkpoints,
        stored_checkpoints,
    )
    from settings import get_settings

    async def work() -> tuple[Any, str | None, int]:
        verdict = await verify_chain()
        kept = read_checkpoints(checkpoint) if checkpoint else await stored_checkpoints()
        problem = None
        if verdict.ok:
            problem = await against_checkpoints(
                kept, public_key_of(get_settings().audit_signing_seed)
            )
        return verdict, problem, len(kept)

    verdict, problem, kept = _run(work)
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
    typer.echo(
        f"ok: {verdict.entries} entries, head {verdict.head_seq} {verdict.head_hash[:16]}…,"
        f" {kept} signed checkpoints agree"
    )


@audit_cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-wrap every subject's data key under the active key of BG_ENCRYPTION_KEYS (put the new
    key first). Stopped half-way, run it again: it carries on."""
    from audit.entry import SYSTEM, AuditEntry
    from audit.store import append, subject_keys
    from gateway.db.connection import transaction

    async def work() -> int:
        done = await subject_keys().rewrap_all()
        async with transaction():
            await append(
                AuditEntry(
                    action="audit.keys.rotated",
                    actor=SYSTEM,
                    target_type="audit",
                    target_id="subject_keys",
                    after={"rewrapped": done},
                )
            )
        return done

    typer.echo(f"re-wrapped {_run(work)} data keys")


@audit_cli.command("forget")
def forget(subject: str, reason: Annotated[str, typer.Option(help="for the record")]) -> None:
    """Destroy SUBJECT's data key: their payloads read as erased; the chain still verifies."""
    from audit.entry import SYSTEM, AuditEntry
    from audit.store import append, subject_keys
    from gateway.db.connection import transaction

    async def work() -> bool:
        async with transaction():
            destroyed = await subject_keys().forget(subject)
            await append(
                AuditEntry(
                    action="audit.subject.forgotten" if destroyed else "audit.subject.forget_noop",
                    actor=SYSTEM,
                    target_type="audit_subject",
                    target_id=subject,
                    reason=reason,
                )
            )
        return destroyed

    typer.echo(f"forgot {subject}" if _run(work) else f"{subject} had nothing to forget")
