"""The hash chain over the audit trail, kept in its own append-only table.

Writers insert entries without waiting for each other; a sealer then gives committed entries,
in the order it finds them, the next sequence numbers (no gaps: it alone writes `audit_chain`,
under an advisory lock) and a hash over the previous hash, the entry's metadata and its
ciphertext. `verify()` walks the chain and names the first entry that does not match: a flipped
byte, an entry deleted, swapped or cut off at the end, or a whole chain rewritten consistently
(caught against a signed checkpoint kept elsewhere).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from gateway.db.connection import fetch, transaction

GENESIS = "0" * 64
SEAL_LOCK = 0x61756474  # "audt": one sealer at a time, across processes
_BATCH = 5000

_HEAD = "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1"
# Ids first (an index-only anti-join), then the rows: sorting whole rows would spill to disk.
_UNSEALED = """
WITH pending AS (
    SELECT r.id FROM audit_records r
     WHERE r.id > $2 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_id = r.id)
     ORDER BY r.id
     LIMIT $1
)
SELECT r.id, r.occurred_at, r.actor_type, r.actor_id, r.action, r.target_type, r.target_id,
       r.request_id, r.subject, r.payload, r.data::text AS data
  FROM pending JOIN audit_records r USING (id)
 ORDER BY r.id
"""
# Entries commit out of id order, but not by much: a quick seal looks only this far below the
# newest sealed entry; the minute job looks at everything, so a long transaction is still sealed.
RECENT_WINDOW = 2_000
_SEAL = """
INSERT INTO audit_chain (seq, entry_id, prev_hash, hash)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
"""
_CHAIN = """
SELECT c.seq, c.entry_id, c.prev_hash, c.hash,
       r.id, r.occurred_at, r.actor_type, r.actor_id, r.action, r.target_type, r.target_id,
       r.request_id, r.subject, r.payload, r.data::text AS data
  FROM audit_chain c LEFT JOIN audit_records r ON r.id = c.entry_id
 WHERE c.seq > $1
 ORDER BY c.seq
 LIMIT $2
"""


def entry_hash(prev_hash: str, seq: int, row: dict[str, Any]) -> str:
    """SHA-256 over the previous hash, the position, the metadata and the ciphertext."""
    occurred = row["occurred_at"].isoformat() if row.get("occurred_at") else ""
    parts = [
        prev_hash,
        str(seq),
        str(row["id"]),
        occurred,
        *(
            str(row.get(name) or "")
            for name in (
                "actor_type",
                "actor_id",
                "action",
                "target_type",
                "target_id",
                "request_id",
                "subject",
            )
        ),
        str(row.get("payload") or row.get("data") or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def seal_pending(batch: int = _BATCH, *, everything: bool = True) -> int:
    """Chain the committed entries not chained yet; the number sealed. `everything=False`
    looks only at recent ids (fast, for frequent runs)."""
    sealed = 0
    while True:
        async with transaction():
            await fetch("SELECT pg_advisory_xact_lock($1)", SEAL_LOCK)
            head = await fetch(_HEAD)
            seq, prev = (head[0]["seq"], head[0]["hash"]) if head else (0, GENESIS)
            floor = 0
            if not everything:
                newest = await fetch("SELECT max(entry_id) AS id FROM audit_chain")
                floor = max((newest[0]["id"] or 0) - RECENT_WINDOW, 0)
            rows = await fetch(_UNSEALED, batch, floor)
            if not rows:
                return sealed
            seqs, ids, prevs, hashes = [], [], [], []
            for row in rows:
                seq += 1
                digest = entry_hash(prev, seq, row)
                seqs.append(seq)
                ids.append(row["id"])
                prevs.append(prev)
                hashes.append(digest)
                prev = digest
            await fetch(_SEAL, seqs, ids, prevs, hashes)
            sealed += len(rows)


@dataclass(frozen=True)
class Verdict:
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify(batch: int = 20000) -> Verdict:
    """Walk the whole chain; the first entry that breaks it, or the head it reaches."""
    expected_seq, prev, checked = 1, GENESIS, 0
    while True:
        rows = await fetch(_CHAIN, expected_seq - 1, batch)
        if not rows:
            return Verdict(checked, expected_seq - 1, prev)
        for row in rows:
            seq = row["seq"]
            if seq != expected_seq:
                return Verdict(checked, expected_seq - 1, prev, expected_seq, "missing entry")
            if row["id"] is None:
                return Verdict(checked, seq - 1, prev, seq, "entry deleted")
            if row["prev_hash"] != prev:
                return Verdict(checked, seq - 1, prev, seq, "link to the previous entry broken")
            if entry_hash(prev, seq, row) != row["hash"]:
                return Verdict(checked, seq - 1, prev, seq, "entry altered")
            prev, expected_seq, checked = row["hash"], seq + 1, checked + 1
