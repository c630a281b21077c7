"""How the cheque pages word what ChequeService answers, in the reader's language: money as
they write amounts, statuses by name, the sentence after a cheque is recorded or bounced (what
the provider now shows), batches in the order an operations member looks for them (their own
first), and a failed close's details."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from adapters.money import format_money
from adapters.ports import Money
from admin.cheque_forms import PROVIDERS
from gateway.cheques.schemas import BatchRead, ChequeRead
from gateway.corrections.schemas import MoneyRead
from gateway.i18n import N_, gettext
from gateway.i18n.formatting import format_datetime, format_minor
from gateway.i18n.values import status_name

# What the service's statuses read as on a page.
CHEQUE_STATUS = {
    "recording": N_("recording"),
    "recorded": N_("recorded"),
    "bouncing": N_("bouncing"),
    "bounced": N_("bounced"),
    "failed": N_("not recorded"),
}
BATCH_STATUS = {"open": N_("open"), "closed": N_("closed")}


def _parts(amount: MoneyRead | Money | dict[str, Any]) -> tuple[int, str]:
    if isinstance(amount, dict):
        return int(amount["amount_minor"]), str(amount["currency"])
    return amount.amount_minor, amount.currency


def money(amount: MoneyRead | Money | dict[str, Any] | None) -> str:
    """As the reader writes amounts ("120,00 €" in French); a problem's extra holds a dict."""
    if amount is None:
        return ""
    minor, currency = _parts(amount)
    return format_minor(minor, currency)


def plain_money(amount: MoneyRead | Money | dict[str, Any] | None) -> str:
    """ "120.00 EUR" whatever the language: for data attributes scripts and tests read."""
    return "" if amount is None else format_money(*_parts(amount))


def provider_name(provider: str) -> str:
    return PROVIDERS.get(provider, provider)


def cheque_status(status: str) -> str:
    return gettext(CHEQUE_STATUS[status]) if status in CHEQUE_STATUS else status


def batch_status(status: str) -> str:
    return gettext(BATCH_STATUS[status]) if status in BATCH_STATUS else status


def invoice_status(status: str | None) -> str:
    if not status:
        return gettext("unknown")
    return status_name(status)


def invoice_name(cheque: ChequeRead) -> str:
    if cheque.credit:
        return gettext("credit for the next invoice")
    return cheque.invoice_number or cheque.invoice_id or ""


def recorded_sentence(cheque: ChequeRead) -> str:
    """After the entry form: the cheque's number and what the provider now shows."""
    values = {
        "number": cheque.number,
        "amount": money(cheque.amount),
        "reference": cheque.reference,
        "provider": provider_name(cheque.provider),
    }
    if cheque.status == "recording":
        return gettext(
            "Cheque {number} ({amount}, reference {reference}) is entered; {provider} has not "
            "confirmed it yet. The gateway finishes it in the background: reload this page in "
            "a minute."
        ).format(**values)
    if cheque.status == "failed":
        if cheque.failure:
            return gettext(
                "Cheque {number} ({amount}, reference {reference}) was not recorded: {failure}"
            ).format(failure=cheque.failure, **values)
        return gettext(
            "Cheque {number} ({amount}, reference {reference}) was not recorded: the provider "
            "refused it."
        ).format(**values)
    if cheque.credit:
        return gettext(
            "Cheque {number} ({amount}, reference {reference}) is recorded at {provider} as a "
            "credit on account {account}: the account's next invoice uses it."
        ).format(account=cheque.account_number or cheque.account_id, **values)
    return gettext(
        "Cheque {number} ({amount}, reference {reference}) is recorded at {provider}: invoice "
        "{invoice} now shows as {status}."
    ).format(invoice=invoice_name(cheque), status=invoice_status(cheque.invoice_status), **values)


def bounced_sentence(cheque: ChequeRead) -> str:
    """After a bounce: the invoice is open again, or what the provider shows instead."""
    values = {"number": cheque.number, "provider": provider_name(cheque.provider)}
    if cheque.status == "bouncing":
        return gettext(
            "Cheque {number} is being reversed at {provider}; the gateway finishes it in the "
            "background: reload this page in a minute."
        ).format(**values)
    if cheque.credit:
        return gettext(
            "Cheque {number} is marked bounced: {provider} no longer holds its credit on "
            "account {account}."
        ).format(account=cheque.account_number or cheque.account_id, **values)
    if cheque.invoice_status == "open":
        return gettext(
            "Cheque {number} is marked bounced: the payment is reversed at {provider} and "
            "invoice {invoice} is open again."
        ).format(invoice=invoice_name(cheque), **values)
    return gettext(
        "Cheque {number} is marked bounced and its payment reversed at {provider}, which shows "
        "invoice {invoice} as {status}: re-bill it by hand."
    ).format(invoice=invoice_name(cheque), status=invoice_status(cheque.invoice_status), **values)


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
                "entered_at": format_datetime(entered) if isinstance(entered, datetime) else "",
            }
        )
    return rows


def view_helpers() -> dict[str, Any]:
    return {
        "money": money,
        "plain_money": plain_money,
        "provider_name": provider_name,
        "invoice_name": invoice_name,
        "cheque_status": cheque_status,
        "batch_status": batch_status,
        "invoice_status": invoice_status,
    }
