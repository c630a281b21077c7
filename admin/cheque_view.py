"""How the cheque pages word what ChequeService answers: money as decimal text in its currency,
the sentence after a cheque is recorded or bounced (what the provider now shows), batches in the
order an operations member looks for them (their own first), and a failed close's details."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from adapters.money import format_money
from adapters.ports import Money
from admin.cheque_forms import PROVIDERS
from admin.work_view import shown_time
from gateway.cheques.schemas import BatchRead, ChequeRead
from gateway.corrections.schemas import MoneyRead

# What the service's statuses read as on a page.
CHEQUE_STATUS = {
    "recording": "recording",
    "recorded": "recorded",
    "bouncing": "bouncing",
    "bounced": "bounced",
    "failed": "not recorded",
}


def money(amount: MoneyRead | Money | dict[str, Any] | None) -> str:
    """ "120.00 EUR"; a problem's extra holds money as a dict."""
    if amount is None:
        return ""
    if isinstance(amount, dict):
        return format_money(int(amount["amount_minor"]), str(amount["currency"]))
    return format_money(amount.amount_minor, amount.currency)


def provider_name(provider: str) -> str:
    return PROVIDERS.get(provider, provider)


def invoice_name(cheque: ChequeRead) -> str:
    if cheque.credit:
        return "credit for the next invoice"
    return cheque.invoice_number or cheque.invoice_id or ""


def recorded_sentence(cheque: ChequeRead) -> str:
    """After the entry form: the cheque's number and what the provider now shows."""
    at = provider_name(cheque.provider)
    head = f"Cheque {cheque.number} ({money(cheque.amount)}, reference {cheque.reference})"
    if cheque.status == "recording":
        return (
            f"{head} is entered; {at} has not confirmed it yet. The gateway finishes it in the "
            "background: reload this page in a minute."
        )
    if cheque.status == "failed":
        return f"{head} was not recorded: {cheque.failure or 'the provider refused it.'}"
    if cheque.credit:
        account = cheque.account_number or cheque.account_id
        return (
            f"{head} is recorded at {at} as a credit on account {account}: the account's next "
            "invoice uses it."
        )
    shown = cheque.invoice_status or "unknown"
    return f"{head} is recorded at {at}: invoice {invoice_name(cheque)} now shows as {shown}."


def bounced_sentence(cheque: ChequeRead) -> str:
    """After a bounce: the invoice is open again, or what the provider shows instead."""
    at = provider_name(cheque.provider)
    if cheque.status == "bouncing":
        return (
            f"Cheque {cheque.number} is being reversed at {at}; the gateway finishes it in the "
            "background: reload this page in a minute."
        )
    if cheque.credit:
        return (
            f"Cheque {cheque.number} is marked bounced: {at} no longer holds its credit on "
            f"account {cheque.account_number or cheque.account_id}."
        )
    if cheque.invoice_status == "open":
        return (
            f"Cheque {cheque.number} is marked bounced: the payment is reversed at {at} and "
            f"invoice {invoice_name(cheque)} is open again."
        )
    return (
        f"Cheque {cheque.number} is marked bounced and its payment reversed at {at}, which "
        f"shows invoice {invoice_name(cheque)} as {cheque.invoice_status or 'unknown'}: "
        "re-bill it by hand."
    )


def own_first(batches: list[BatchRead], username: str) -> list[BatchRead]:
    """The member's own batches first, then the others; open before closed, newest first."""
    return sorted(
        batches,
        key=lambda batch: (
            batch.depositor != username,
            batch.status != "open",
            batch.currency,
            -batch.created_at.timestamp(),
        ),
    )


def since_scan(extra: dict[str, Any]) -> list[dict[str, str]]:
    """The cheques a refused close says were entered since the scan, as rows to show."""
    rows = []
    for item in extra.get("cheques_since_scan") or []:
        entered = item.get("entered_at")
        if isinstance(entered, str):
            with contextlib.suppress(ValueError):  # shown without its time then
                entered = datetime.fromisoformat(entered.replace("Z", "+00:00"))
        rows.append(
            {
                "id": str(item.get("id", "")),
                "number": str(item.get("number", "")),
                "reference": str(item.get("reference", "")),
                "amount": money(item.get("amount")),
                "entered_at": shown_time(entered) if isinstance(entered, datetime) else "",
            }
        )
    return rows


def view_helpers() -> dict[str, Any]:
    return {
        "money": money,
        "provider_name": provider_name,
        "invoice_name": invoice_name,
        "cheque_status": lambda status: CHEQUE_STATUS.get(status, status),
        "shown_time": shown_time,
    }
