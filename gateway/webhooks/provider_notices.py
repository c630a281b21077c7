"""Provider news a support team acts on (a payment failed, an invoice past due, a mandate
cancelled, a payout failed), told as events about the customer ("stripe:cus_1"), recorded in
the transaction that marks the inbound webhook processed. They belong to no client: the
customer references let the delivery reach the support tools that work for this customer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from gateway.change_requests import queries
from gateway.i18n import N_, Message
from gateway.notifications.events import EventType
from gateway.notifications.outbox import record_event
from gateway.notifications.wording import account_phrase, money_read

E = EventType
_PROVIDER_NAMES = {"stripe": "Stripe", "zuora": "Zuora"}
# The objects provider events are about, as a note names them (their type, else).
_OBJECT_NOUNS = {
    "payment": N_("payment"),
    "invoice": N_("invoice"),
    "mandate": N_("mandate"),
    "payout": N_("payout"),
    "payment_intent": N_("payment intent"),
    "subscription": N_("subscription"),
}


@dataclass(frozen=True)
class ProviderNotice:
    event: EventType
    provider: str
    reference: str  # the customer reference's column: stripe_customer_id, zuora_account_id, ...
    account: str
    object_type: str
    object_id: str | None
    status: str | None = None
    amount: dict[str, Any] | None = None
    failure_code: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def stripe_notice(
    event: dict[str, Any], data_object: dict[str, Any], customer: str | None
) -> ProviderNotice | None:
    """The notice a Stripe event gives, if it is one a help desk acts on; `customer`: the
    Stripe customer it concerns (a mandate names only its payment method). Only ids, amounts,
    statuses and codes are read: never a payment method's details or Stripe's messages."""
    event_type = str(event.get("type") or "")
    kind = str(data_object.get("object") or event_type.partition(".")[0])
    if event_type in ("invoice.payment_failed", "payment_intent.payment_failed"):
        error = data_object.get("last_payment_error") or {}
        return _stripe(
            E.PROVIDER_PAYMENT_FAILED,
            customer,
            data_object,
            kind,
            amount_field="amount_due" if kind == "invoice" else "amount",
            failure_code=error.get("decline_code") or error.get("code"),
        )
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    became_past_due = (
        event_type == "customer.subscription.updated"
        and data_object.get("status") == "past_due"
        and "status" in previous
        and previous.get("status") != "past_due"
    )
    if event_type == "invoice.overdue" or became_past_due:
        field_name = "amount_remaining" if kind == "invoice" else None
        return _stripe(E.PROVIDER_INVOICE_PAST_DUE, customer, data_object, kind, field_name)
    if event_type == "mandate.updated" and data_object.get("status") == "inactive":
        return _stripe(E.PROVIDER_MANDATE_CANCELLED, customer, data_object, kind)
    account = event.get("account")
    if event_type == "payout.failed" and isinstance(account, str):
        return ProviderNotice(
            E.PROVIDER_PAYOUT_FAILED,
            "stripe",
            "stripe_connect_account_id",
            account,
            "payout",
            data_object.get("id"),
            status=data_object.get("status"),
            amount=_amount(data_object, "amount"),
            failure_code=data_object.get("failure_code"),
        )
    return None


def _stripe(
    event: EventType,
    customer: Any,
    data_object: dict[str, Any],
    kind: str,
    amount_field: str | None = None,
    failure_code: Any = None,
) -> ProviderNotice | None:
    if not isinstance(customer, str):
        return None
    return ProviderNotice(
        event,
        "stripe",
        "stripe_customer_id",
        customer,
        kind,
        data_object.get("id"),
        status=data_object.get("status"),
        amount=_amount(data_object, amount_field) if amount_field else None,
        failure_code=str(failure_code) if failure_code else None,
    )


def _amount(data_object: dict[str, Any], amount_field: str) -> dict[str, Any] | None:
    amount, currency = data_object.get(amount_field), data_object.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return None
    return money_read(amount, currency)


def zuora_payment_failed(
    account_id: str | None, payment_id: str, found: dict[str, Any] | None
) -> ProviderNotice | None:
    """A Zuora payment that failed (as Zuora holds it now, when it could be read again)."""
    if not account_id:
        return None
    amount = (found or {}).get("amount")
    return ProviderNotice(
        E.PROVIDER_PAYMENT_FAILED,
        "zuora",
        "zuora_account_id",
        account_id,
        "payment",
        payment_id,
        status=(found or {}).get("status"),
        amount=money_read(amount["amount_minor"], amount["currency"]) if amount else None,
    )


async def record_provider_notice(notice: ProviderNotice) -> uuid.UUID:
    """The event, in the caller's transaction; the customer's other references (as the
    gateway's change requests hold them) come along for scoping."""
    known = await queries.latest_references(notice.reference, notice.account)
    customer = {notice.reference: notice.account, **known}
    provider = _PROVIDER_NAMES.get(notice.provider, notice.provider.capitalize())
    data = {
        "ticket": None,
        "ticket_display": None,
        "status": notice.status,
        "provider": notice.provider,
        "customer": customer,
        "object": {"type": notice.object_type, "id": notice.object_id},
        "amount": notice.amount,
        "failure_code": notice.failure_code,
        **notice.facts,
        "note": _note(notice, provider, account_phrase({notice.reference: notice.account})),
    }
    return await record_event(
        notice.event,
        subject_type="customer",
        subject_id=f"{notice.provider}:{notice.account}",
        client=None,
        data=data,
        customer=customer,
    )


def _note(notice: ProviderNotice, provider: str, account: Message) -> Message:
    """The sentence for the follow-up's internal note (English in the body; each endpoint's
    language beside it, see outbox.py). The object is named by its type's own noun."""
    amount = Message(" of {amount}", amount=notice.amount["display"]) if notice.amount else ""
    noun = _OBJECT_NOUNS.get(notice.object_type)
    kind = Message(noun) if noun else notice.object_type.replace("_", " ")
    what = Message("{kind} {id}", kind=kind, id=notice.object_id) if notice.object_id else kind
    code = f" ({notice.failure_code})" if notice.failure_code else ""
    said = {"provider": provider, "amount": amount, "account": account, "what": what}
    if notice.event is E.PROVIDER_PAYMENT_FAILED:
        return Message(
            "{provider}: a payment{amount} failed for {account} ({what}){code}. Open a "
            "follow-up with the customer.",
            code=code,
            **said,
        )
    if notice.event is E.PROVIDER_INVOICE_PAST_DUE:
        return Message(
            "{provider}: {what}{amount} is past due for {account}. Open a follow-up with the "
            "customer.",
            **said,
        )
    if notice.event is E.PROVIDER_MANDATE_CANCELLED:
        return Message(
            "{provider}: the direct debit mandate for {account} is no longer active ({what}); "
            "the next collection will fail unless the customer gives a new mandate. Open a "
            "follow-up with the customer.",
            **said,
        )
    return Message(
        "{provider}: a payout{amount} to {account} failed ({what}){code}; check the partner's "
        "bank details. Open a follow-up with the customer.",
        code=code,
        **said,
    )
