"""The gateway's live blocklists, mirrored into the provider's own lists (Stripe Radar value
lists), so that the provider also refuses what the gateway blocks.

PostgreSQL is the truth. For each kind Radar can hold, one pass adds what the gateway blocks
and Radar lacks, and removes what Radar holds and the gateway no longer blocks. Only the lists
the adapter owns (under its fixed alias) are read and changed; lists the fraud team keeps by
hand in Radar are never touched. One item that fails is recorded and the others go on; a list
that cannot be read is recorded and the other lists go on.

Not mirrored: ip_range (Radar's ip_address lists hold single addresses), iban (kept only as a
keyed hash; Radar's sepa_debit_fingerprint is Stripe's own fingerprint, not ours) and customer
(no Radar type). The report counts their live entries, so an operator sees what Radar lacks.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from adapters.ports import BlockedItemType, BlocklistMirror
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError
from gateway.fraud import queries

MIRRORED: dict[str, BlockedItemType] = {
    "card_fingerprint": "card_fingerprint",
    "card_bin": "card_bin",
    "ip": "ip_address",
    "email": "email",
}
NOT_MIRRORED: dict[str, str] = {
    "ip_range": "Radar's ip_address lists hold single addresses, not ranges",
    "iban": "kept only as a keyed hash, which Radar cannot match",
    "customer": "Radar has no list type for the gateway's customer references",
}


@dataclass(frozen=True)
class FailedItem:
    action: Literal["add", "remove"]
    label: str  # the entry's display (add), or the value Radar holds (remove)
    reason: str  # the gateway's own words: error code and sentence, no provider message
    entry_id: int | None = None  # the blocklist entry (add)


@dataclass(frozen=True)
class KindDrift:
    kind: str
    item_type: BlockedItemType
    in_gateway: int
    in_radar_before: int | None  # None: the Radar list could not be read
    added: int = 0
    removed: int = 0
    failed: tuple[FailedItem, ...] = ()
    error: str | None = None  # why the list could not be read (nothing was changed)


@dataclass(frozen=True)
class NotMirrored:
    kind: str
    live: int
    why: str


@dataclass(frozen=True)
class DriftReport:
    kinds: tuple[KindDrift, ...]
    not_mirrored: tuple[NotMirrored, ...]
    finished_at: datetime

    @property
    def complete(self) -> bool:
        """Every list read and every item synced: Radar now equals the gateway."""
        return all(kind.error is None and not kind.failed for kind in self.kinds)

    @property
    def changed(self) -> bool:
        return any(kind.added or kind.removed for kind in self.kinds)

    def kind(self, kind: str) -> KindDrift:
        return next(drift for drift in self.kinds if drift.kind == kind)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: labels are what `display` shows, never more."""
        return {**asdict(self), "finished_at": self.finished_at.isoformat()}


def _reason(error: BillingError) -> str:
    return f"{error.code.value}: {error.detail}"


def _item_key(prefix: str, kind: str, value: str) -> str:
    """Names the add without the value (it reaches logs and Stripe's dashboard)."""
    return f"{prefix}:radar:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


async def _sync_kind(
    mirror: BlocklistMirror, kind: str, entries: list[dict[str, Any]], prefix: str
) -> KindDrift:
    item_type = MIRRORED[kind]
    wanted = {entry["value"]: entry for entry in entries}
    try:
        present = set(await mirror.blocked_values(item_type))
    except BillingError as error:
        return KindDrift(kind, item_type, len(wanted), None, error=_reason(error))
    added, removed, failed = 0, 0, []
    for value, entry in wanted.items():
        if value in present:
            continue
        try:
            await mirror.add_blocked(
                item_type, value, idempotency_key=_item_key(prefix, kind, value)
            )
            added += 1
        except BillingError as error:
            failed.append(FailedItem("add", entry["display"], _reason(error), entry["id"]))
    for value in sorted(present - wanted.keys()):
        try:
            await mirror.remove_blocked(item_type, value)
            removed += 1
        except BillingError as error:
            failed.append(FailedItem("remove", value, _reason(error)))
    return KindDrift(kind, item_type, len(wanted), len(present), added, removed, tuple(failed))


async def sync_to_radar(mirror: BlocklistMirror, *, idempotency_prefix: str) -> DriftReport:
    """Make the provider's lists equal the gateway's live entries; `idempotency_prefix` names
    this run (the schedule's timestamp): a retry of the run reuses its keys, while a later run
    gets new ones, since Stripe replays a key's first answer for a day (an item removed and
    blocked again would otherwise not come back)."""
    entries = await fetch(queries.RADAR_MIRRORED, list(MIRRORED))  # read first: then touch Radar
    counts = {
        row["kind"]: row["live"]
        for row in await fetch(queries.RADAR_NOT_MIRRORED, list(NOT_MIRRORED))
    }
    kinds = [
        await _sync_kind(
            mirror, kind, [entry for entry in entries if entry["kind"] == kind], idempotency_prefix
        )
        for kind in MIRRORED
    ]
    return DriftReport(
        kinds=tuple(kinds),
        not_mirrored=tuple(
            NotMirrored(kind, counts.get(kind, 0), why) for kind, why in NOT_MIRRORED.items()
        ),
        finished_at=datetime.now(UTC),
    )
