"""Signed checkpoints: an Ed25519 signature over (sequence, head hash), kept in the database and
copied off its machine by a sink (audit/sinks.py: a directory, an HTTP endpoint, or stdout).

A checkpoint kept outside the database is what catches a chain rewritten consistently from some
entry on, or cut short: the rewritten chain verifies on its own, but not against the hash the
checkpoint signed at that sequence.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit import queries
from audit.chain import GENESIS, Verdict, seal_pending, verify
from audit.sinks import CheckpointSink, SinkUnavailableError
from gateway.core.db.connection import fetch, fetch_value
from gateway.core.log import get_logger

_log = get_logger("audit")
# A new endpoint is sent the whole history, one POST each: in slices, so that the minute job,
# which also seals, never spends hours on it.
COPIES_PER_RUN = 1000


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    signed_at: str
    public_key: str
    signature: str

    def message(self) -> bytes:
        return f"billing-gateway audit checkpoint|{self.seq}|{self.head_hash}".encode()

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def public_key_of(seed: bytes) -> str:
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return base64.b64encode(raw.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def signed_by(checkpoint: Checkpoint, public_key: str) -> bool:
    if checkpoint.public_key != public_key:
        return False
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    try:
        key.verify(base64.b64decode(checkpoint.signature), checkpoint.message())
    except InvalidSignature:
        return False
    return True


class ChainBrokenError(Exception):
    """The chain does not verify from the last signed checkpoint: nothing is signed."""

    def __init__(self, from_seq: int, first_bad_seq: int | None, problem: str) -> None:
        super().__init__(f"entry {first_bad_seq}: {problem}" if first_bad_seq else problem)
        self.from_seq, self.first_bad_seq, self.problem = from_seq, first_bad_seq, problem


async def verified_head(seed: bytes) -> Verdict:
    """The chain verified from the last stored checkpoint (which must be signed by `seed` and
    still match), up to its head; ChainBrokenError otherwise."""
    rows = await fetch(queries.LAST_CHECKPOINT)
    after = (0, GENESIS)
    if rows:
        last = Checkpoint(**rows[0])
        problem = await against_checkpoints([last], public_key_of(seed))
        if problem is not None:
            raise ChainBrokenError(last.seq, None, problem)
        after = (last.seq, last.head_hash)
    verdict = await verify(after=after)
    if not verdict.ok:
        raise ChainBrokenError(after[0], verdict.first_bad_seq, str(verdict.problem))
    return verdict


async def write_checkpoint(seed: bytes, sink: CheckpointSink) -> Checkpoint | None:
    """Seal what is pending, verify the chain from the last checkpoint, then sign the head it
    reached, store it and copy it to the sink; None when the chain is
    empty. A chain that does not verify is never signed."""
    await seal_pending()
    head = await verified_head(seed)
    if head.head_seq == 0:
        return None
    unsigned = Checkpoint(
        seq=head.head_seq,
        head_hash=head.head_hash,
        signed_at=datetime.now(UTC).isoformat(),
        public_key=public_key_of(seed),
        signature="",
    )
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(unsigned.message())
    checkpoint = Checkpoint(
        **{**unsigned.__dict__, "signature": base64.b64encode(signature).decode()}
    )
    await fetch(
        queries.INSERT_CHECKPOINT,
        checkpoint.seq,
        checkpoint.head_hash,
        datetime.fromisoformat(checkpoint.signed_at),
        checkpoint.public_key,
        checkpoint.signature,
    )
    await copy_off_host(sink)
    return checkpoint


async def copy_off_host(sink: CheckpointSink) -> int:
    """Copy to the sink the stored checkpoints it has not taken, oldest first, at most
    COPIES_PER_RUN; how many it took (0 when it failed).

    The row commits before the copy: a crash in between, a sink that was down, or a retry that
    finds the row already there, is made good here, by the next run. A sink that fails is
    logged and left for that next run: sealing goes on, nothing is lost."""
    missing = await sink.missing()
    if not missing:
        return 0
    rows = await fetch(queries.CHECKPOINTS_TO_COPY, sorted(missing)[:COPIES_PER_RUN])
    lines = [
        (
            int(row["seq"]),
            Checkpoint(**{**row, "signed_at": row["signed_at"].isoformat()}).to_json(),
        )
        for row in rows
    ]
    try:
        await sink.take(lines)
    except SinkUnavailableError as failed:
        _log.warning(
            "audit checkpoints not copied off the host; retried at the next run",
            sink=failed.sink,
            reason=failed.reason,
            pending=len(missing),  # before this run: no second read of a failing sink
        )
        return 0
    return len(lines)


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """A kept copy: the directory sink's file, or the lines an HTTP receiver or the log shipper
    kept (their `event` marker, or any other extra field, is ignored)."""
    fields = Checkpoint.__dataclass_fields__
    return [
        Checkpoint(**{key: value for key, value in json.loads(line).items() if key in fields})
        for line in path.read_text().splitlines()
        if line.strip()
    ]


async def stored_checkpoints() -> list[Checkpoint]:
    return [Checkpoint(**row) for row in await fetch(queries.CHECKPOINTS)]


async def against_checkpoints(checkpoints: list[Checkpoint], public_key: str) -> str | None:
    """The first disagreement between the chain and signed checkpoints, or None."""
    for checkpoint in checkpoints:
        if not signed_by(checkpoint, public_key):
            return f"checkpoint {checkpoint.seq} is not signed by this gateway's key"
        found = await fetch_value(queries.HASH_AT, checkpoint.seq)
        if found is None:
            return f"the chain ends before entry {checkpoint.seq}, which a checkpoint signed"
        if found != checkpoint.head_hash:
            return f"entry {checkpoint.seq} differs from the signed checkpoint: rewritten"
    return None
