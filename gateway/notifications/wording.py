"""Small pieces the events' data and notes share: the ticket's two forms, how a customer is
named in a sentence, lists in prose, money for people. The phrases are Messages: a note is
written in English in the body, and again in each endpoint's language (outbox.py)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.money import format_money
from gateway.i18n import N_, Message
from gateway.i18n.labels import LABELS
from gateway.tickets import display_ticket

_ACCOUNT_NAMES = (
    ("zuora_account_id", N_("account {reference}")),
    ("stripe_customer_id", N_("Stripe customer {reference}")),
    ("stripe_connect_account_id", N_("Stripe Connect account {reference}")),
    ("backoffice_id", N_("customer {reference}")),
)


def ticket_fields(ticket: str | None) -> dict[str, str | None]:
    return {"ticket": ticket or None, "ticket_display": display_ticket(ticket) or None}


def account_phrase(references: Mapping[str, Any]) -> Message:
    """The customer as a sentence names them: "account A00000102", "Stripe customer cus_1"."""
    for column, template in _ACCOUNT_NAMES:
        if references.get(column):
            return Message(template, reference=str(references[column]))
    return Message(N_("the customer"))


def listed(items: Sequence[str]) -> str:
    """ "Zuora", "Zuora and Stripe", "A, B and C"."""
    if len(items) <= 1:
        return "".join(items)
    return Message("{first} and {last}", first=", ".join(items[:-1]), last=items[-1])


def label_of(member: enum.Enum) -> str:
    """The member's label as a Message (said again in the reader's language), else its value."""
    english = LABELS.get(member)
    return Message(english) if english else str(member.value)


def money_read(amount_minor: int, currency: str) -> dict[str, Any]:
    return {
        "amount_minor": int(amount_minor),
        "currency": currency.upper(),
        "display": format_money(int(amount_minor), currency),
    }
