"""What a screen's answer says of each matching entry (kind, display, reason, source ticket),
kept in memory: one screen in ten matches, and a database read per match cost more than the
rest of the screen. Those columns never change once an entry is written (an unblock sets only
the removed_* ones), and whether an entry still blocks is the matcher's call, never this
cache's."""

from __future__ import annotations

from typing import NamedTuple

from gateway.core.db.connection import fetch
from gateway.fraud import queries
from gateway.fraud.schemas import EntryKind

# Enough for every entry a busy day matches; past it the cache starts over (~300 bytes each).
LIMIT = 20_000


class Described(NamedTuple):
    id: int
    kind: EntryKind
    display: str
    reason: str
    source_ticket: str | None


class EntryDescriptions:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._known: dict[int, Described] = {}
        self._matcher: object = None

    async def of(self, matcher: object, entry_ids: list[int]) -> list[Described]:
        """The entries of `entry_ids` that exist, by id, from `matcher`'s screen."""
        if matcher is not self._matcher:  # a reload (e.g. after a TRUNCATE) starts afresh
            self._known.clear()
            self._matcher = matcher
        known = self._known
        missing = [entry_id for entry_id in entry_ids if entry_id not in known]
        if missing:
            rows = await fetch(queries.MATCHED, missing)
            if len(known) + len(rows) > self._limit:
                known.clear()
            for row in rows:
                known[row["id"]] = Described(
                    row["id"], row["kind"], row["display"], row["reason"], row["source_ticket"]
                )
        return [known[entry_id] for entry_id in sorted(entry_ids) if entry_id in known]
