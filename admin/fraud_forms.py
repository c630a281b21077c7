"""Fraud-stop in the back office, for team leads and admins: FRAUD-STOP (block a request's or a
customer's card, IP and the rest in one go), unblock one entry, and bulk unblocks, which a second
lead or admin approves. The forms parse and answer: FRAUD-STOP itself is
`gateway.change_requests.fraud_stop`, blocking and unblocking go through `BlocklistService`,
which audits each change, and the maker-checker rule lives in `gateway.fraud.bulk_unblock`, on
the server."""

from __future__ import annotations

import re

from piccolo_admin.endpoints import FormConfig
from pydantic import Field

from admin.form_choices import choice_field
from admin.forms import FRAUD_STOP, REQUEST_HELP, REQUEST_TITLE, staff_action
from admin.free_text import FormModel
from gateway.change_requests.fraud_stop import FraudStopResult, StoppedValue, fraud_stop
from gateway.fraud.bulk_unblock import BulkUnblockService
from gateway.fraud.schemas import BIGINT_MAX
from gateway.fraud.screening import NOUN
from gateway.fraud.wiring import blocklist_service
from gateway.i18n import N_, Message, translate
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role

CUSTOMER_HELP = N_(
    "A customer reference: back-office id, Zuora account, Stripe customer or account."
)
ENTRY_HELP = N_("As shown in the Blocklist screen.")
BULK_HELP = N_("As shown in the Bulk unblocks screen.")


class FraudStop(FormModel):
    request: str | None = choice_field(
        default=None, max_length=200, title=REQUEST_TITLE, description=REQUEST_HELP
    )
    customer: str | None = Field(
        default=None, max_length=200, title=N_("Customer"), description=CUSTOMER_HELP
    )
    card_fingerprint: str | None = Field(
        default=None,
        max_length=200,
        title=N_("Card fingerprint"),
        description=N_("The provider's card fingerprint, never a number."),
    )
    ip: str | None = Field(
        default=None,
        max_length=64,
        title=N_("IP address"),
        description=N_("The IP address to stop."),
    )
    ticket: str | None = Field(
        default=None,
        max_length=130,
        title=N_("Ticket"),
        description=N_("Without a request: the ticket it comes from."),
    )
    reason: str = Field(
        min_length=3, max_length=500, title=N_("Reason"), description=N_("Shown with every entry.")
    )


class UnblockEntry(FormModel):
    entry_id: int = Field(ge=1, le=BIGINT_MAX, title=N_("Entry"), description=ENTRY_HELP)
    reason: str = Field(min_length=3, max_length=500, title=N_("Reason"))


class BulkUnblockCreate(FormModel):
    NOT_FREE_TEXT = frozenset({"entry_ids"})  # kept only as the numbers it lists
    entry_ids: str = Field(
        min_length=1,
        max_length=20_000,
        title=N_("Entries"),
        description=N_("Entry numbers, comma-separated: 12, 13, 14."),
    )
    reason: str = Field(min_length=3, max_length=500, title=N_("Reason"))


class BulkUnblockRef(FormModel):
    bulk_unblock_id: int = Field(
        ge=1, le=BIGINT_MAX, title=N_("Bulk unblock"), description=BULK_HELP
    )


class BulkUnblockReject(FormModel):
    bulk_unblock_id: int = Field(
        ge=1, le=BIGINT_MAX, title=N_("Bulk unblock"), description=BULK_HELP
    )
    reason: str = Field(min_length=3, max_length=500, title=N_("Reason"))


def _given(text: str | None) -> str | None:
    return (text or "").strip() or None


def _listed(values: tuple[StoppedValue, ...]) -> str:
    return "; ".join(
        translate(
            Message(
                "{what} {display} (entry {entry})",
                what=Message(NOUN[value.kind]),
                display=value.display,
                entry=value.entry_id,
            )
        )
        for value in values
    )


def fraud_stop_answer(result: FraudStopResult) -> str:
    """What FRAUD-STOP did, as the form answers it and the customer page's notice says it."""
    blocked = (
        Message("blocked {values}.", values=_listed(result.blocked))
        if result.blocked
        else Message("nothing new to block.")
    )
    already = (
        Message(" Already blocked: {values}.", values=_listed(result.already_blocked))
        if result.already_blocked
        else ""
    )
    if result.ticket:
        return Message(
            "FRAUD-STOP for {ticket}: {blocked}{already}",
            ticket=result.ticket,
            blocked=blocked,
            already=already,
        )
    return Message("FRAUD-STOP: {blocked}{already}", blocked=blocked, already=already)


def _entry_ids(text: str) -> list[int]:
    ids = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part.isdigit() or not 1 <= int(part) <= BIGINT_MAX:
            raise ValueError(
                translate(
                    Message(
                        "{part} is not an entry id: give the numbers, comma-separated.",
                        part=repr(part),
                    )
                )
            )
        ids.append(int(part))
    return ids


def _ids(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers) or translate(N_("none"))


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
        return fraud_stop_answer(result)

    async def unblock(staff: StaffMember, data: UnblockEntry) -> str:
        entry = await blocklist_service().unblock(data.entry_id, data.reason, staff.actor)
        return Message(
            "Entry {entry} ({what} {display}) is unblocked; it stays listed.",
            entry=entry.id,
            what=Message(NOUN[entry.kind]),
            display=entry.display,
        )

    async def request_bulk(staff: StaffMember, data: BulkUnblockCreate) -> str:
        filed = await bulk.request(staff, _entry_ids(data.entry_ids), data.reason)
        return Message(
            "Bulk unblock {bulk} of {count} entries is waiting for another team lead or admin: "
            "they approve it with its number, {bulk}.",
            bulk=filed.id,
            count=len(filed.entry_ids),
        )

    async def approve_bulk(staff: StaffMember, data: BulkUnblockRef) -> str:
        outcome = await bulk.approve(staff, data.bulk_unblock_id)
        return Message(
            "Bulk unblock {bulk} is approved. Unblocked: {unblocked}. Already unblocked "
            "before: {before}.",
            bulk=outcome.id,
            unblocked=_ids(outcome.unblocked),
            before=_ids(outcome.already_unblocked),
        )

    async def reject_bulk(staff: StaffMember, data: BulkUnblockReject) -> str:
        rejected = await bulk.reject(staff, data.bulk_unblock_id, data.reason)
        return Message(
            "Bulk unblock {bulk} is rejected; its entries stay blocked.", bulk=rejected.id
        )

    return [
        FormConfig(
            name=N_("FRAUD-STOP"),
            form_group=FRAUD_STOP,
            pydantic_model=FraudStop,
            endpoint=staff_action(role, stop),
            description=N_(
                "Blocks in one go the card fingerprint and IP you give and, from the "
                "request, its IBAN (kept as a keyed hash, shown masked), the requester's email and "
                "IP, and every customer reference; or a customer you name. What is already blocked "
                "counts as done. Every block is audited; undo one with Unblock entry."
            ),
        ),
        FormConfig(
            name=N_("Unblock entry"),
            form_group=FRAUD_STOP,
            pydantic_model=UnblockEntry,
            endpoint=staff_action(role, unblock),
            description=N_("Ends one block at once; the entry stays listed with who and why."),
        ),
        FormConfig(
            name=N_("Bulk unblock"),
            form_group=FRAUD_STOP,
            pydantic_model=BulkUnblockCreate,
            endpoint=staff_action(role, request_bulk),
            description=N_(
                "Asks to unblock several entries. Nothing changes until another team "
                "lead or admin approves it (Approve bulk unblock)."
            ),
        ),
        FormConfig(
            name=N_("Approve bulk unblock"),
            form_group=FRAUD_STOP,
            pydantic_model=BulkUnblockRef,
            endpoint=staff_action(role, approve_bulk),
            description=N_(
                "Unblocks every entry of someone else's bulk unblock; you cannot approve your own."
            ),
        ),
        FormConfig(
            name=N_("Reject bulk unblock"),
            form_group=FRAUD_STOP,
            pydantic_model=BulkUnblockReject,
            endpoint=staff_action(role, reject_bulk),
            description=N_("Turns a pending bulk unblock down (its maker may withdraw it so)."),
        ),
    ]
