"""Signed checkpoints: an Ed25519 signature over (sequence, head hash), kept in the database and
appended to a file (`<BG_DATA_DIR>/audit/checkpoints.jsonl`) that an operator copies elsewhere.

A checkpoint kept outside the database is what catches a chain rewritten consistently from some
entry on, or cut short: the rewritten chain verifies on its own, but not against the hash the
checkpoint signed at that sequence.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.chain import seal_pending
from gateway.db.connection import fetch


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


async def write_checkpoint(seed: bytes, folder: Path) -> Checkpoint | None:
    """Seal what is pending, then sign the head; None when the chain is empty."""
    await seal_pending()
    head = await fetch("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
    if not head:
        return None
    unsigned = Checkpoint(
        seq=int(head[0]["seq"]),
        head_hash=str(head[0]["hash"]),
        signed_at=datetime.now(UTC).isoformat(),
        public_key=public_key_of(seed),
        signature="",
    )
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(unsigned.message())
    checkpoint = Checkpoint(
        **{**unsigned.__dict__, "signature": base64.b64encode(signature).decode()}
    )
    stored = await fetch(
        "INSERT INTO audit_checkpoints (seq, head_hash, public_key, signature)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING RETURNING seq",
        checkpoint.seq,
        checkpoint.head_hash,
        checkpoint.public_key,
        checkpoint.signature,
    )
    if stored:
        await asyncio.to_thread(_append_line, folder / "checkpoints.jsonl", checkpoint.to_json())
    return checkpoint


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(line + "\n")


def read_checkpoints(path: Path) -> list[Checkpoint]:
    return [
        Checkpoint(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()
    ]


async def stored_checkpoints() -> list[Checkpoint]:
    rows = await fetch(
        "SELECT seq, head_hash, signed_at::text AS signed_at, public_key, signature"
        " FROM audit_checkpoints ORDER BY seq"
    )
    return [Checkpoint(**row) for row in rows]


async def hash_at(seq: int) -> str | None:
    rows = await fetch("SELECT hash FROM audit_chain WHERE seq = $1", seq)
    return str(rows[0]["hash"]) if rows else None


async def against_checkpoints(checkpoints: list[Checkpoint], public_key: str) -> str | None:
    """The first disagreement between the chain and signed checkpoints, or None."""
    for checkpoint in checkpoints:
        if not signed_by(checkpoint, public_key):
            return f"checkpoint {checkpoint.seq} is not signed by this gateway's key"
        found = await hash_at(checkpoint.seq)
        if found is None:
            return f"the chain ends before entry {checkpoint.seq}, which a checkpoint signed"
        if found != checkpoint.head_hash:
            return f"entry {checkpoint.seq} differs from the signed checkpoint: rewritten"
    return None
