"""The hash chain over the audit trail, kept in its own append-only table.

Writers insert entries without waiting for each other; a sealer then gives committed entries,
in the order it finds them, the next sequence numbers (no gaps: it alone writes `audit_chain`,
under an advisory lock) and a hash over the previous hash, the entry's metadata and its
ciphertext (and the entry's MAC). `verify()` walks the chain and names the first entry that does
not match: a flipped byte, an entry deleted, swapped or cut off at the end, one whose MAC the
gateway did not make (forged or edited with database rights alone, even with the chain
recomputed after), or a copy; a whole chain rewritten consistently is caught against a signed
checkpoint kept elsewhere. It also lists entries dated well before one sealed ahead of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from audit import queries
from audit.mac import FIELDS, mac_matches_values
from gateway.core.db.connection import fetch, fetch_value, records, transaction

GENESIS = "0" * 64
SEAL_LOCK = 0x61756474  # "audt": one sealer at a time, across processes
# Entries are sealed in the order they commit, which is not quite the order they were written
# in, and writers' clocks differ a little: only a larger step back in time is reported.
TIME_TOLERANCE = timedelta(minutes=5)
_BATCH = 5000
# The columns of queries.CHAIN, in its order: verify() reads each row by position.
CHAIN_COLUMNS = (
    "seq",
    "entry_id",
    "prev_hash",
    "hash",
    "id",
    "occurred_at",
    *FIELDS,
    "data",
    "mac",
)


_METADATA = FIELDS[:-1]  # the MAC's fields but the payload, which the hash reads as content


def entry_hash(prev_hash: str, seq: int, row: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash, the position, the metadata and the ciphertext."""
    get = row.get
    return _entry_hash(
        prev_hash,
        seq,
        row["id"],
        get("occurred_at"),
        tuple(map(get, _METADATA)),
        get("payload") or get("data"),
        get("mac"),
    )


def _entry_hash(
    prev_hash: str,
    seq: int,
    entry_id: Any,
    occurred: datetime | None,
    metadata: tuple[Any, ...],
    content: Any,
    mac: str | None,
) -> str:
    """`entry_hash` from the entry's values: `metadata` the seven of FIELDS before the payload,
    `content` the payload (or the data of an entry from before payloads)."""
    actor_type, actor_id, action, target_type, target_id, request_id, subject = metadata
    # Spelled out rather than looped: the sealer and verify() hash every entry.
    text = "\x1f".join(
        (
            prev_hash,
            str(seq),
            str(entry_id),
            occurred.isoformat() if occurred else "",
            str(actor_type or ""),
            str(actor_id or ""),
            str(action or ""),
            str(target_type or ""),
            str(target_id or ""),
            str(request_id or ""),
            str(subject or ""),
            str(content or ""),
        )
    )
    if mac:  # entries from before MACs hash as they always did
        text = f"{text}\x1f{mac}"
    return hashlib.sha256(text.encode()).hexdigest()


async def seal_pending(batch: int = _BATCH, *, everything: bool = True) -> int:
    """Chain the committed entries not chained yet; the number sealed. `everything=False`
    looks only at recent ids (fast, for frequent runs)."""
    sealed = 0
    while True:
        async with transaction():
            await fetch("SELECT pg_advisory_xact_lock($1)", SEAL_LOCK)
            head = await fetch(queries.HEAD)
            seq, prev = (head[0]["seq"], head[0]["hash"]) if head else (0, GENESIS)
            floor = 0
            if not everything:
                newest = await fetch_value(queries.NEWEST_SEALED) or 0
                floor = max(newest - queries.RECENT_WINDOW, 0)
            rows = await records(queries.UNSEALED_BATCH, batch, floor)
            if not rows:
                return sealed
            first_seq, first_prev, ids, hashes = seq, prev, [], []
            for row in rows:
                seq += 1
                prev = entry_hash(prev, seq, row)
                ids.append(row["id"])
                hashes.append(prev)
            await fetch(queries.SEAL, first_seq, first_prev, ids, " ".join(hashes))
            sealed += len(rows)
        if len(rows) < batch:  # all there was: no second look (a lock, a scan) to find none
            return sealed


@dataclass(frozen=True)
class TimeSlip:
    """An entry dated well before one sealed ahead of it: a writer's clock, or a forgery."""

    seq: int
    after_seq: int
    by: timedelta


@dataclass(frozen=True)
class Verdict:
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    legacy: int = 0  # entries from before MACs, at the start of the chain
    backwards: tuple[TimeSlip, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify(
    batch: int = 20000,
    *,
    after: tuple[int, str] = (0, GENESIS),
    progress: Callable[[int], None] | None = None,
) -> Verdict:
    """Walk the chain from the start, or `after=(seq, hash)` a signed checkpoint: the first entry
    that breaks it (or whose MAC does not match), or the head it reaches. `progress(n)` hears of
    each batch of `n` entries checked."""
    walk = _Walk(*after, copies=await _copies(after[0]))
    if after[0] > 0:  # past the legacy prefix once an entry there has a MAC
        rows = await fetch(queries.CHAIN, after[0] - 1, 1)
        walk.seen_mac = bool(rows and rows[0]["mac"])
    rows = await records(queries.CHAIN, walk.expected_seq - 1, batch)
    if rows and tuple(rows[0].keys()) != CHAIN_COLUMNS:  # check() reads them by position
        raise RuntimeError(f"queries.CHAIN gives {tuple(rows[0].keys())}, not {CHAIN_COLUMNS}")
    while rows:
        # The database reads the next batch while this one is hashed: the two overlap.
        following = asyncio.ensure_future(records(queries.CHAIN, rows[-1]["seq"], batch))
        try:
            await asyncio.sleep(0)  # lets it send the query
            broken = next(filter(None, map(walk.check, rows)), None)
            if broken is None and progress is not None:
                progress(len(rows))
        except BaseException:
            await _ended(following)
            raise
        if broken is not None:
            await _ended(following)
            return walk.verdict(*broken)
        rows = await following
    return walk.verdict()


async def _ended(read: asyncio.Future[Any]) -> None:
    """Wait for a read whose answer is not needed: never left running on the caller's
    connection (inside a transaction, the next statement would collide with it)."""
    with contextlib.suppress(Exception):
        await read


async def _copies(after_seq: int) -> dict[int, str]:
    """Entries whose MAC another entry has (a unique index refuses them; dropped, it lets one
    in), by seq: what each is a copy of."""
    return {
        row["seq"]: f"entry {row['twin_seq']}"
        if row["twin_seq"]
        else f"unsealed entry (id {row['twin_id']})"
        for row in await fetch(queries.COPIES, after_seq)
    }


class _Walk:
    def __init__(self, seq: int, prev: str, copies: dict[int, str]) -> None:
        self.expected_seq, self.prev, self.checked = seq + 1, prev, 0
        self.copies = copies
        self.seen_mac = False
        self.legacy = 0
        self.latest: tuple[datetime, int] | None = None
        self.backwards: list[TimeSlip] = []

    def check(self, row: Any) -> tuple[int, str] | None:
        """(the seq, what is wrong) when this row of queries.CHAIN breaks the chain; else it
        moves on. The row (a Record) is read by position, CHAIN_COLUMNS: every entry is
        checked, and looking its values up by name cost more than the rest of the walk."""
        (
            seq,
            _entry_id,
            prev_hash,
            stored_hash,
            entry_id,
            occurred,
            actor_type,
            actor_id,
            action,
            target_type,
            target_id,
            request_id,
            subject,
            payload,
            data,
            mac,
        ) = row
        metadata = (actor_type, actor_id, action, target_type, target_id, request_id, subject)
        if seq != self.expected_seq:
            return self.expected_seq, "missing entry"
        if entry_id is None:
            return seq, "entry deleted"
        if prev_hash != self.prev:
            return seq, "link to the previous entry broken"
        if _entry_hash(self.prev, seq, entry_id, occurred, metadata, payload or data, mac) != (
            stored_hash
        ):
            return seq, "entry altered"
        problem = self._check_mac(seq, mac, occurred, (*metadata, payload))
        if problem is not None:
            return seq, problem
        self._check_time(seq, occurred)
        self.prev, self.expected_seq, self.checked = stored_hash, seq + 1, self.checked + 1
        return None

    def _check_mac(
        self, seq: int, mac: str | None, occurred: datetime, fields: tuple[Any, ...]
    ) -> str | None:
        if mac is None:
            if self.seen_mac:
                return "no MAC: not written by the gateway"
            self.legacy += 1
            return None
        self.seen_mac = True
        if not mac_matches_values(mac, occurred, fields):
            return "MAC does not match: forged or changed without the gateway's key"
        twin = self.copies.get(seq)
        return f"a copy of {twin}" if twin else None

    def _check_time(self, seq: int, occurred: datetime) -> None:
        if self.latest is not None and occurred < self.latest[0] - TIME_TOLERANCE:
            self.backwards.append(TimeSlip(seq, self.latest[1], self.latest[0] - occurred))
        if self.latest is None or occurred > self.latest[0]:
            self.latest = (occurred, seq)

    def verdict(self, bad_seq: int | None = None, problem: str | None = None) -> Verdict:
        return Verdict(
            self.checked,
            self.expected_seq - 1,
            self.prev,
            bad_seq,
            problem,
            self.legacy,
            tuple(self.backwards),
        )
