"""A correction's events (filed, decided, done, failed, retried, a step settled by hand): its
row read inside the transaction that changed it, as masked data and a sentence for the ticket."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.change_requests.outcomes import staff_names
from gateway.core.customers import REFERENCE_OF_PROVIDER
from gateway.core.db.rows import loaded
from gateway.corrections import queries
from gateway.i18n import Message
from gateway.notifications.events import EventType
from gateway.notifications.fanout import files_for_customers
from gateway.notifications.outbox import record_event
from gateway.notifications.wording import account_phrase, money_read, ticket_fields

E = EventType


async def record_correction_event(event: EventType, correction_id: uuid.UUID) -> uuid.UUID:
    """Read the correction as it is now (in the caller's transaction) and record `event`."""
    row = await queries.event_row(correction_id)
    customer = {
        REFERENCE_OF_PROVIDER.get(row["provider"], f"{row['provider']}_account"): row["account_id"]
    }
    data = await correction_data(event, row, customer)
    return await record_event(
        event,
        subject_type="correction",
        subject_id=str(row["id"]),
        client=row["client"],
        data=data,
        customer=customer,
    )


def amounts_of(payload: Any) -> list[dict[str, Any]]:
    """Every amount the correction's steps move, for people too."""
    steps = payload.get("steps") if isinstance(payload, dict) else payload
    found = []
    for step in steps or []:
        amount = (step.get("inputs") or {}).get("amount")
        if isinstance(amount, dict) and "amount_minor" in amount:
            found.append(money_read(amount["amount_minor"], amount["currency"]))
    return found


async def correction_data(
    event: EventType, row: dict[str, Any], customer: dict[str, str]
) -> dict[str, Any]:
    amounts = amounts_of(loaded(row["payload"]))
    data: dict[str, Any] = {
        **ticket_fields(row["ticket"]),
        "status": row["status"],
        "kind": row["kind"],
        "provider": row["provider"],
        "customer": customer,
        "object_id": row["object_id"],
        "amounts": amounts,
        "approval_required": row["approval_required"],
    }
    if event is E.CORRECTION_FAILED:
        data["error"] = {"code": row["error_code"], "message": row["error_message"]}
    names = await staff_names([row["approved_by_staff_id"], row["refused_by_staff_id"]])
    approver = names.get(row["approved_by_staff_id"]) if row["approved_by_staff_id"] else None
    refuser = names.get(row["refused_by_staff_id"]) if row["refused_by_staff_id"] else None
    what = _what(row, amounts)
    account = account_phrase(customer)
    provider = str(row["provider"]).capitalize()
    then = (
        Message("it waits for a team lead's approval")
        if row["approval_required"]
        else Message("it runs now")
    )
    approved_by = approver.display_name if approver else Message("A team lead")
    refused_by = refuser.display_name if refuser else Message("A team lead")
    said = {"what": what, "account": account, "provider": provider}
    notes = {
        E.CORRECTION_FILED: lambda: Message(
            "A {what} was filed for {account} at {provider}; {then}.", then=then, **said
        ),
        E.CORRECTION_AWAITING_APPROVAL: lambda: Message(
            "The {what} for {account} waits for a team lead's approval before it runs.", **said
        ),
        E.CORRECTION_APPROVED: lambda: Message(
            "{approver} approved the {what} for {account}; it runs now.",
            approver=approved_by,
            **said,
        ),
        E.CORRECTION_REFUSED: lambda: Message(
            "{refuser} refused the {what} for {account}; nothing was changed at {provider}.",
            refuser=refused_by,
            **said,
        ),
        E.CORRECTION_SUCCEEDED: lambda: Message(
            "Done at {provider}: the {what} for {account}.", **said
        ),
        E.CORRECTION_FAILED: lambda: Message(
            "The {what} for {account} failed at {provider}: {reason}",
            reason=row["error_message"] or Message("see the correction in the back office."),
            **said,
        ),
        E.CORRECTION_RETRIED: lambda: Message(
            "A team lead runs the {what} for {account} again.", **said
        ),
        E.CORRECTION_STEP_SETTLED_BY_HAND: lambda: Message(
            "A team lead settled a step of the {what} for {account} by hand at {provider}; "
            "it goes on.",
            **said,
        ),
    }
    note = notes.get(event)
    data["note"] = (
        note()
        if note
        else Message("The {what} for {account} is now {status}.", status=str(row["status"]), **said)
    )
    return data


def _what(row: dict[str, Any], amounts: list[dict[str, Any]]) -> Message:
    if row["kind"] == "refund":
        total = " + ".join(amount["display"] for amount in amounts)
        return Message("refund of {total}", total=total) if total else Message("refund")
    if row["kind"] == "void_invoice":
        return Message("void of invoice {invoice}", invoice=row["object_id"])
    if amounts:
        return Message(
            "cancellation of subscription {subscription} (refund {amount})",
            subscription=row["object_id"],
            amount=amounts[0]["display"],
        )
    return Message("cancellation of subscription {subscription}", subscription=row["object_id"])


@files_for_customers
async def clients_that_filed(customer: dict[str, Any]) -> set[str]:
    """The clients that filed a correction on one of the customer's provider accounts; Zuora's
    own account id beside its number, as corrections keep the id."""
    references = ("zuora_account_id", "stripe_customer_id", "zuora_account_key")
    return await queries.clients_of_accounts(
        [str(customer[name]) for name in references if customer.get(name)]
    )
