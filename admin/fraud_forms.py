"""Fraud-stop in the back office, for team leads and admins: FRAUD-STOP (block a request's or a
customer's card, IP and the rest in one go), unblock one entry, and bulk unblocks, which a second
lead or admin approves. The forms parse and answer: FRAUD-STOP itself is `gateway.fraud.fraud_stop`,
blocking and unblocking go through `BlocklistService`, which audits each change, and the
maker-checker rule lives in `gateway.fraud.bulk_unblock`, on the server."""

from __future__ import annotations

import re

from piccolo_admin.endpoints import FormConfig
from pydantic import Field

from admin.forms import REQUEST_HELP, staff_action
from admin.free_text import FormModel
from gateway.fraud.bulk_unblock import BulkUnblockService
from gateway.fraud.fraud_stop import FraudStopResult, StoppedValue
from gateway.fraud.schemas import BIGINT_MAX
from gateway.fraud.screening import NOUN
from gateway.fraud.wiring import blocklist_service, fraud_stop
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role

CUSTOMER_HELP = "A customer reference: back-office id, Zuora account, Stripe customer or account."


class FraudStop(FormModel):
    request: str | None = Field(default=None, max_length=200, description=REQUEST_HELP)
    customer: str | None = Field(default=None, max_length=200, description=CUSTOMER_HELP)
    card_fingerprint: str | None = Field(
        default=None, max_length=200, description="The provider's card fingerprint, never a number."
    )
    ip: str | None = Field(default=None, max_length=64, description="The IP address to stop.")
    ticket: str | None = Field(
        default=None, max_length=130, description="Without a request: the ticket it comes from."
    )
    reason: str = Field(min_length=3, max_length=500, description="Shown with every entry.")


class UnblockEntry(FormModel):
    entry_id: int = Field(ge=1, le=BIGINT_MAX, description="As shown in the Blocklist screen.")
    reason: str = Field(min_length=3, max_length=500)


class BulkUnblockCreate(FormModel):
    NOT_FREE_TEXT = frozenset({"entry_ids"})  # kept only as the numbers it lists
    entry_ids: str = Field(
        min_length=1, max_length=20_000, description="Entry ids, comma-separated: 12, 13, 14."
    )
    reason: str = Field(min_length=3, max_length=500)


class BulkUnblockRef(FormModel):
    bulk_unblock_id: int = Field(
        ge=1, le=BIGINT_MAX, description="As shown in the Bulk unblocks screen."
    )


class BulkUnblockReject(FormModel):
    bulk_unblock_id: int = Field(
        ge=1, le=BIGINT_MAX, description="As shown in the Bulk unblocks screen."
    )
    reason: str = Field(min_length=3, max_length=500)


def _given(text: str | None) -> str | None:
    return (text or "").strip() or None


def _listed(values: tuple[StoppedValue, ...]) -> str:
    return "; ".join(
        f"{NOUN[value.kind]} {value.display} (entry {value.entry_id})" for value in values
    )


def _fraud_stop_answer(result: FraudStopResult) -> str:
    answer = f"FRAUD-STOP{f' for {result.ticket}' if result.ticket else ''}: "
    answer += f"blocked {_listed(result.blocked)}." if result.blocked else "nothing new to block."
    already = result.already_blocked
    return answer + (f" Already blocked: {_listed(already)}." if already else "")


def _entry_ids(text: str) -> list[int]:
    ids = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part.isdigit() or not 1 <= int(part) <= BIGINT_MAX:
            raise ValueError(f"{part!r} is not an entry id: give the numbers, comma-separated.")
        ids.append(int(part))
    return ids


def _ids(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers) or "none"


def fraud_forms(role: Role) -> list[FormConfig]:
    bulk = BulkUnblockService(blocklist_service())

    async def stop(staff: StaffMember, data: FraudStop) -> str:
        result = await fraud_stop().stop(
            staff.actor,
            request=_given(data.request),
            card_fingerprint=_given(data.card_fingerprint),
            ip=_given(data.ip),
            customer=_given(data.customer),
            reason=data.reason,
            ticket=_given(data.ticket),
        )
        return _fraud_stop_answer(result)

    async def unblock(staff: StaffMember, data: UnblockEntry) -> str:
        entry = await blocklist_service().unblock(data.entry_id, data.reason, staff.actor)
        return (
            f"Entry {entry.id} ({NOUN[entry.kind]} {entry.display}) is unblocked; it stays listed."
        )

    async def request_bulk(staff: StaffMember, data: BulkUnblockCreate) -> str:
        filed = await bulk.request(staff, _entry_ids(data.entry_ids), data.reason)
        return (
            f"Bulk unblock {filed.id} of {len(filed.entry_ids)} entries is waiting for another "
            f"team lead or admin: they approve it with its number, {filed.id}."
        )

    async def approve_bulk(staff: StaffMember, data: BulkUnblockRef) -> str:
        outcome = await bulk.approve(staff, data.bulk_unblock_id)
        return (
            f"Bulk unblock {outcome.id} is approved. Unblocked: {_ids(outcome.unblocked)}. "
            f"Already unblocked before: {_ids(outcome.already_unblocked)}."
        )

    async def reject_bulk(staff: StaffMember, data: BulkUnblockReject) -> str:
        rejected = await bulk.reject(staff, data.bulk_unblock_id, data.reason)
        return f"Bulk unblock {rejected.id} is rejected; its entries stay blocked."

    return [
        FormConfig(
            name="FRAUD-STOP",
            pydantic_model=FraudStop,
            endpoint=staff_action(role, stop),
            description="Blocks in one go the card fingerprint and IP you give and, from the "
            "request, its IBAN (kept as a keyed hash, shown masked), the requester's email and "
            "IP, and every customer reference; or a customer you name. What is already blocked "
            "counts as done. Every block is audited; undo one with Unblock entry.",
        ),
        FormConfig(
            name="Unblock entry",
            pydantic_model=UnblockEntry,
            endpoint=staff_action(role, unblock),
            description="Ends one block at once; the entry stays listed with who and why.",
        ),
        FormConfig(
            name="Bulk unblock",
            pydantic_model=BulkUnblockCreate,
            endpoint=staff_action(role, request_bulk),
            description="Asks to unblock several entries. Nothing changes until another team "
            "lead or admin approves it (Approve bulk unblock).",
        ),
        FormConfig(
            name="Approve bulk unblock",
            pydantic_model=BulkUnblockRef,
            endpoint=staff_action(role, approve_bulk),
            description="Unblocks every entry of someone else's bulk unblock; you cannot "
            "approve your own.",
        ),
        FormConfig(
            name="Reject bulk unblock",
            pydantic_model=BulkUnblockReject,
            endpoint=staff_action(role, reject_bulk),
            description="Turns a pending bulk unblock down (its maker may withdraw it so).",
        ),
    ]
