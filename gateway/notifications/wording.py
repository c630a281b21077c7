"""Small pieces the events' data and notes share: the ticket's two forms, how a customer is
named in a sentence, lists in prose, money for people."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from adapters.money import format_money
from gateway.tickets import display_ticket

_ACCOUNT_NAMES = (
    ("zuora_account_id", "account {}"),
    ("stripe_customer_id", "Stripe customer {}"),
    ("stripe_connect_account_id", "Stripe Connect account {}"),
    ("backoffice_id", "customer {}"),
)


def loaded(value: Any) -> Any:
    """A JSONB value as asyncpg returns it (text), decoded."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def ticket_fields(ticket: str | None) -> dict[str, str | None]:
    return {"ticket": ticket or None, "ticket_display": display_ticket(ticket) or None}


def account_phrase(references: Mapping[str, Any]) -> str:
    """The customer as a sentence names them: "account A00000102", "Stripe customer cus_1"."""
    for column, template in _ACCOUNT_NAMES:
        if references.get(column):
            return template.format(references[column])
    return "the customer"


def listed(items: Sequence[str]) -> str:
    """ "Zuora", "Zuora and Stripe", "A, B and C"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def money_read(amount_minor: int, currency: str) -> dict[str, Any]:
    return {
        "amount_minor": int(amount_minor),
        "currency": currency.upper(),
        "display": format_money(int(amount_minor), currency),
    }
