"""Fraud-stop in the back office, for team leads and admins: FRAUD-STOP (block a request's or a
customer's card, IP and the rest in one go), unblock one entry, and bulk unblocks, which a second
lead or admin approves. Blocking and unblocking go through `BlocklistService`, which audits each
change; the maker-checker rule lives in `gateway.fraud.bulk_unblock`, on the server."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import cast

from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, Field

from admin.forms import REQUEST_HELP, staff_action
from gateway.db.connection import fetch
from gateway.errors import BillingError, ErrorCode
from gateway.fraud.bulk_unblock import BulkUnblockService
from gateway.fraud.schemas import BIGINT_MAX, BlocklistEntryCreate, EntryKind
from gateway.fraud.screening import NOUN
from gateway.fraud.wiring import blocklist_service
from gateway.sensitive import contains_card_number, contains_iban
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role

# What the API screens a filed request's customer by (ChangeRequestService._refuse_if_blocked).
CUSTOMER_REFERENCES = (
    "backoffice_id",
    "zuora_account_id",
    "stripe_customer_id",
    "stripe_connect_account_id",
)
CUSTOMER_HELP = "A customer reference: back-office id, Zuora account, Stripe customer or account."
_REQUEST = """
SELECT ticket_system || ' #' || ticket_id AS ticket, backoffice_id, zuora_account_id,
       stripe_customer_id, stripe_connect_account_id, requester->>'email' AS email,
       requester->>'ip' AS ip, details->>'account_holder_email' AS holder_email, iban_hash,
       details->>'iban_masked' AS iban_masked
  FROM change_requests
 WHERE (id = $1 OR ($1 IS NULL AND ticket_id = $2 AND ($3 = '' OR ticket_system = $3)))
 ORDER BY created_at DESC LIMIT 2
"""


class FraudStop(BaseModel):
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


class UnblockEntry(BaseModel):
    entry_id: int = Field(ge=1, le=BIGINT_MAX, description="As shown in the Blocklist screen.")
    reason: str = Field(min_length=3, max_length=500)


class BulkUnblockCreate(BaseModel):
    entry_ids: str = Field(
        min_length=1, max_length=20_000, description="Entry ids, comma-separated: 12, 13, 14."
    )
    reason: str = Field(min_length=3, max_length=500)


class BulkUnblockRef(BaseModel):
    bulk_unblock_id: int = Field(
        ge=1, le=BIGINT_MAX, description="As shown in the Bulk unblocks screen."
    )


class BulkUnblockReject(BaseModel):
    bulk_unblock_id: int = Field(
        ge=1, le=BIGINT_MAX, description="As shown in the Bulk unblocks screen."
    )
    reason: str = Field(min_length=3, max_length=500)


@dataclass(frozen=True)
class Target:
    kind: str
    value: str | None
    stored: tuple[str, str] | None = None  # (stored value, display) when already worked out


def _given(text: str | None) -> str | None:
    return (text or "").strip() or None


def _refuse_sensitive(**fields: str | None) -> None:
    """Fingerprints and customer references are stored as given: no card number, no IBAN."""
    for name, text in fields.items():
        label = name.replace("_", " ")
        if text and contains_card_number(text):
            raise BillingError(
                ErrorCode.CARD_NUMBER_NOT_ACCEPTED,
                f"The {label} looks like a card number, which the gateway never accepts: give "
                "the provider's card fingerprint instead.",
            )
        if text and contains_iban(text):
            raise BillingError(
                ErrorCode.IBAN_OUTSIDE_IBAN_FIELD,
                f"The {label} holds an IBAN. Leave it out: FRAUD-STOP on the request blocks "
                "its IBAN, kept only as a keyed hash.",
            )


async def _request_targets(reference: str) -> tuple[str, list[Target]]:
    """What a change request gives to block: its IBAN (as the keyed hash it is stored as), the
    requester's email and IP, the account holder's email, and every customer reference."""
    try:
        request_id: uuid.UUID | None = uuid.UUID(reference)
    except ValueError:
        request_id = None
    system, _, ticket_id = reference.rpartition("#")
    rows = await fetch(_REQUEST, request_id, ticket_id.strip(), system.strip().lower())
    if len(rows) != 1:
        raise BillingError(
            ErrorCode.CHANGE_REQUEST_NOT_FOUND if not rows else ErrorCode.VALIDATION_FAILED,
            f"{'No request' if not rows else 'Several requests match'} {reference!r}. "
            "Use the request id, or the ticket as shown in the list (for example: zendesk #1001).",
        )
    row = rows[0]
    targets = [Target("email", row[name]) for name in ("email", "holder_email") if row[name]]
    if row["ip"]:
        targets.append(Target("ip", row["ip"]))
    if row["iban_hash"]:
        targets.append(Target("iban", None, (row["iban_hash"], row["iban_masked"] or "IBAN")))
    targets += [Target("customer", row[name]) for name in CUSTOMER_REFERENCES if row[name]]
    return row["ticket"], targets


async def fraud_stop(staff: StaffMember, data: FraudStop) -> str:
    card, ip, customer = _given(data.card_fingerprint), _given(data.ip), _given(data.customer)
    _refuse_sensitive(card_fingerprint=card, customer=customer)
    reference, ticket, targets = _given(data.request), _given(data.ticket), []
    if card:
        targets.append(Target("card_fingerprint", card))
    if ip:
        targets.append(Target("ip", ip))
    if customer:
        targets.append(Target("customer", customer))
    if reference:
        ticket, from_request = await _request_targets(reference)
        targets += from_request
    if not targets:
        raise ValueError("Give a request or a customer, and the card fingerprint and IP to stop.")
    service = blocklist_service()
    # Every value is checked before the first is blocked: a typo blocks nothing.
    chosen: dict[tuple[str, str], str] = {}
    for target in targets:
        value, display = target.stored or service.stored_form(target.kind, target.value or "")
        chosen.setdefault((target.kind, value), display)
    blocked, already = [], []
    for (kind, value), display in chosen.items():
        entry = BlocklistEntryCreate(
            kind=cast("EntryKind", kind),  # one of the kinds: stored_form checked it
            value=display,  # unused: `stored` is what is kept
            reason=data.reason,
            source_ticket=ticket,
        )
        try:
            created = await service.block(entry, staff.actor, stored=(value, display))
            blocked.append(f"{NOUN[kind]} {display} (entry {created.id})")
        except BillingError as error:
            if error.code is not ErrorCode.BLOCKLIST_ENTRY_EXISTS:
                raise
            already.append(f"{NOUN[kind]} {display} (entry {error.extra['existing_id']})")
    answer = f"FRAUD-STOP{f' for {ticket}' if ticket else ''}: "
    answer += f"blocked {'; '.join(blocked)}." if blocked else "nothing new to block."
    return answer + (f" Already blocked: {'; '.join(already)}." if already else "")


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
            endpoint=staff_action(role, fraud_stop),
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
