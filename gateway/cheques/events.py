"""A cheque's notifications (recorded, bounced): its row read inside the transaction that
changed it, as data and a sentence for the support tools. A bounce says the invoice is "open
again" only when the provider says so; otherwise what the provider shows, and that the invoice
must be billed again by hand."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.cheques.records import load_cheque
from gateway.core.customers import REFERENCE_OF_PROVIDER
from gateway.notifications.events import EventType
from gateway.notifications.outbox import record_event
from gateway.notifications.wording import account_phrase, money_read


def customer_of(row: dict[str, Any]) -> dict[str, str]:
    """The customer as support tools name it (Zuora's account number, as change requests
    give it), and Zuora's own id, which corrections keep."""
    if row["provider"] == "zuora":
        return {
            "zuora_account_id": row.get("account_number") or row["account_id"],
            "zuora_account_key": row["account_id"],
        }
    return {REFERENCE_OF_PROVIDER[row["provider"]]: row["account_id"]}


def cheque_note(event: EventType, row: dict[str, Any]) -> str:
    """The sentence a support agent reads."""
    amount = money_read(row["amount_minor"], row["currency"])["display"]
    account = account_phrase(customer_of(row))
    provider = str(row["provider"]).capitalize()
    what = f"Cheque {row['number']} (reference {row['reference']}, {amount})"
    invoice = row["invoice_number"] or row["invoice_id"]
    status = row["invoice_status"]
    if event is EventType.CHEQUE_RECORDED:
        if invoice is None:
            return f"{what} was recorded at {provider} as a credit for {account}'s next invoice."
        shows = f"; {provider} shows the invoice {status}" if status else ""
        return f"{what} was recorded at {provider} against invoice {invoice} of {account}{shows}."
    reason = f": {row['bounce_reason']}" if row["bounce_reason"] else ""
    bounced = f"{what} bounced{reason}. The payment was reversed at {provider}"
    if invoice is None:
        return f"{bounced}; the credit on {account} is withdrawn."
    if status == "open":
        return f"{bounced}; invoice {invoice} of {account} is open again."
    shows = (
        f"shows invoice {invoice} as {status}" if status else "does not say the invoice's status"
    )
    return f"{bounced}, but {provider} {shows}: bill it again by hand."


def cheque_data(event: EventType, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": row["status"],
        "number": row["number"],
        "reference": row["reference"],
        "provider": row["provider"],
        "customer": customer_of(row),
        "account_name": row["account_name"],
        "amount": money_read(row["amount_minor"], row["currency"]),
        "invoice_id": row["invoice_id"],
        "invoice_number": row["invoice_number"],
        "invoice_status": row["invoice_status"],
        "business_date": row["business_date"].isoformat(),
        "reason": row["bounce_reason"] if event is EventType.CHEQUE_BOUNCED else None,
        "note": cheque_note(event, row),
    }


async def record_cheque_event(event: EventType, cheque_id: uuid.UUID) -> uuid.UUID:
    """Read the cheque as it is now (in the caller's transaction) and record `event`."""
    row = await load_cheque(cheque_id)
    return await record_event(
        event,
        subject_type="cheque",
        subject_id=str(row["id"]),
        client=row["client"],
        data=cheque_data(event, row),
        customer=customer_of(row),
    )
