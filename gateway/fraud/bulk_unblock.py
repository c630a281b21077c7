"""Bulk unblock under maker-checker (ASVS 2.3.5): one team lead or admin asks, another approves,
and only then is each entry unblocked, one by one through `BlocklistService` (each audited).

The approval is committed before the first entry is unblocked: a recovery point. Should the
process stop half-way, the request stays approved without `completed_at`, and approving it
again (by anyone but its maker) unblocks the entries still live; entries already unblocked,
by this request or by someone else meanwhile, count as done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit import AuditEntry, append
from audit.actions import Action
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.fraud import queries
from gateway.fraud.service import BlocklistService, refuse_sensitive_free_text
from gateway.i18n import Message
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role

MAX_ENTRIES = 1000
TARGET = "blocklist_bulk_unblock"
_DONE = (ErrorCode.BLOCKLIST_ENTRY_ALREADY_REMOVED, ErrorCode.BLOCKLIST_ENTRY_NOT_FOUND)


@dataclass(frozen=True)
class BulkUnblock:
    id: int
    entry_ids: list[int]


@dataclass(frozen=True)
class BulkUnblockOutcome:
    id: int
    unblocked: list[int]  # by this approval
    already_unblocked: list[int]  # before it: by an earlier try, or by someone else


def _require_lead_or_admin(staff: StaffMember) -> None:
    if staff.role not in (Role.TEAM_LEAD, Role.ADMIN):
        raise BillingError(
            ErrorCode.ROLE_NOT_ALLOWED, Message("Only a team lead or admin can do this.")
        )


def _ids(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers)


def _decided(bulk_id: int, decision: str) -> Message:
    """One whole sentence per decision (the table allows these two), so that each language
    agrees its words with it."""
    if decision == "approved":
        return Message("Bulk unblock {bulk} is already approved; nothing changed.", bulk=bulk_id)
    return Message("Bulk unblock {bulk} is already rejected; nothing changed.", bulk=bulk_id)


class BulkUnblockService:
    def __init__(self, blocklist: BlocklistService) -> None:
        self._blocklist = blocklist

    async def request(self, staff: StaffMember, entry_ids: list[int], reason: str) -> BulkUnblock:
        """File a bulk unblock; nothing is unblocked until another lead or admin approves."""
        _require_lead_or_admin(staff)
        refuse_sensitive_free_text(reason)
        ids = list(dict.fromkeys(entry_ids))
        if not ids or len(ids) > MAX_ENTRIES:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                Message(
                    "Give between 1 and {most} entry ids; split a longer list.", most=MAX_ENTRIES
                ),
            )
        async with transaction():
            rows = await fetch(queries.SOME_REMOVED_AT, ids)
            found = {row["id"]: row["removed_at"] for row in rows}
            if missing := [entry_id for entry_id in ids if entry_id not in found]:
                raise BillingError(
                    ErrorCode.BLOCKLIST_ENTRY_NOT_FOUND,
                    Message(
                        "No blocklist entry has the id {entries}; nothing was filed.",
                        entries=_ids(missing),
                    ),
                )
            if removed := [entry_id for entry_id in ids if found[entry_id] is not None]:
                raise BillingError(
                    ErrorCode.BLOCKLIST_ENTRY_ALREADY_REMOVED,
                    Message(
                        "Entry {entries} is already unblocked: leave it out; nothing was filed.",
                        entries=_ids(removed),
                    ),
                )
            [row] = await fetch(queries.INSERT_BULK, ids, reason, staff.id)
            await self._audit(
                staff, row["id"], Action.BLOCKLIST_BULK_UNBLOCK_STARTED, reason, {"entry_ids": ids}
            )
        return BulkUnblock(row["id"], ids)

    async def approve(self, staff: StaffMember, bulk_id: int) -> BulkUnblockOutcome:
        _require_lead_or_admin(staff)
        try:
            row = await self._decide_approval(staff, bulk_id)
        except BillingError as refusal:  # on record once rolled back, as every refusal is
            code = {"code": refusal.code.value}
            await self._audit(
                staff, bulk_id, Action.BLOCKLIST_APPROVE_BULK_UNBLOCK_REFUSED, None, code
            )
            raise
        reason = f"{row['reason']} (bulk unblock {bulk_id}, asked by {row['maker']})"
        unblocked, already = [], []
        for entry_id in row["entry_ids"]:
            try:
                await self._blocklist.unblock(entry_id, reason, staff.actor)
                unblocked.append(entry_id)
            except BillingError as error:
                if error.code not in _DONE:
                    raise
                already.append(entry_id)
        async with transaction():
            done = await fetch(queries.COMPLETE_BULK, bulk_id)
            if done:
                after = {"unblocked": unblocked, "already_unblocked": already}
                await self._audit(
                    staff, bulk_id, Action.BLOCKLIST_BULK_UNBLOCK_SUCCEEDED, None, after
                )
        return BulkUnblockOutcome(bulk_id, unblocked, already)

    async def _decide_approval(self, staff: StaffMember, bulk_id: int) -> dict[str, Any]:
        """The approval itself, committed: the recovery point before any entry is unblocked."""
        async with transaction():
            row = await self._locked(bulk_id)
            if row["requested_by_id"] == staff.id:
                raise BillingError(
                    ErrorCode.MAKER_CANNOT_REVIEW,
                    Message(
                        "You asked for this bulk unblock, so another team lead or admin must "
                        "approve it."
                    ),
                )
            if row["decision"] == "rejected":
                raise BillingError(
                    ErrorCode.INVALID_TRANSITION,
                    Message(
                        "Bulk unblock {bulk} was rejected; file a new one if it is still needed.",
                        bulk=bulk_id,
                    ),
                )
            if row["decision"] is None:
                await fetch(queries.DECIDE_BULK, bulk_id, staff.id, "approved")
                after = {"decision": "approved", "entry_ids": row["entry_ids"]}
                await self._audit(
                    staff,
                    bulk_id,
                    Action.BLOCKLIST_APPROVE_BULK_UNBLOCK_SUCCEEDED,
                    row["reason"],
                    after,
                )
        return row

    async def reject(self, staff: StaffMember, bulk_id: int, reason: str) -> BulkUnblock:
        """Turn a pending bulk unblock down; its maker may withdraw it this way too."""
        _require_lead_or_admin(staff)
        refuse_sensitive_free_text(reason)
        async with transaction():
            row = await self._locked(bulk_id)
            if row["decision"] is not None:
                raise BillingError(ErrorCode.INVALID_TRANSITION, _decided(bulk_id, row["decision"]))
            await fetch(queries.DECIDE_BULK, bulk_id, staff.id, "rejected")
            await self._audit(
                staff,
                bulk_id,
                Action.BLOCKLIST_REJECT_BULK_UNBLOCK_SUCCEEDED,
                reason,
                {"decision": "rejected"},
            )
        return BulkUnblock(bulk_id, row["entry_ids"])

    async def _locked(self, bulk_id: int) -> dict[str, Any]:
        rows = await fetch(queries.LOCK_BULK, bulk_id)
        if not rows:
            raise BillingError(
                ErrorCode.NOT_FOUND,
                Message("No bulk unblock has the number {bulk}.", bulk=bulk_id),
            )
        return rows[0]

    async def _audit(
        self,
        staff: StaffMember,
        bulk_id: int,
        action: Action,
        reason: str | None,
        after: dict[str, Any],
    ) -> None:
        await append(
            AuditEntry(
                action=action,
                actor=staff.actor,
                about={},
                target_id=str(bulk_id),
                reason=reason,
                after=after,
            )
        )
