"""Values inside sentences that a back-office page says in the reader's language, while the
API, the logs and the audit trail keep the English text: an amount ("120.00 EUR" for the API,
"120,00 €" on a French page) and a status a provider gave (Stripe's and Zuora's words)."""

from __future__ import annotations

from typing import Any

from adapters.money import format_money
from gateway.core.catalogues import N_, Message, gettext
from gateway.i18n.formatting import format_minor

# Lower case, as the providers' codes were shown before; one list for both providers (Zuora
# writes "Active", "Pending Activation"; Stripe "active", "past_due": both land on one key).
PROVIDER_STATUSES = {
    "active": N_("active"),
    "deleted": N_("deleted"),
    "draft": N_("draft"),
    "canceled": N_("cancelled"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
    "suspended": N_("suspended"),
    "pending_activation": N_("pending activation"),
    "pending_acceptance": N_("pending acceptance"),
    "past_due": N_("past due"),
    "unpaid": N_("unpaid"),
    "incomplete": N_("incomplete"),
    "incomplete_expired": N_("incomplete, expired"),
    "trialing": N_("on trial"),
    "paused": N_("paused"),
    "open": N_("open"),
    "posted": N_("posted"),
    "paid": N_("paid"),
    "void": N_("void"),
    "uncollectible": N_("uncollectible"),
    "processing": N_("processing"),
    "processed": N_("processed"),
    "pending": N_("pending"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
    "error": N_("error"),
}


class AmountText(Message):
    """An amount in a sentence; `translate()` writes it as the reader's language does."""

    amount_minor: int
    currency: str

    def __new__(cls, amount_minor: int, currency: str) -> AmountText:
        text = str.__new__(cls, format_money(amount_minor, currency))
        text.template = str(text)
        text.values = {}
        text.amount_minor = amount_minor
        text.currency = currency.upper()
        return text

    def localized(self) -> str:
        return format_minor(self.amount_minor, self.currency)

    def __reduce__(self) -> tuple[Any, ...]:
        return (AmountText, (self.amount_minor, self.currency))


def _status_key(code: str) -> str:
    return code.strip().lower().replace(" ", "_").replace("-", "_")


def status_text(status: str) -> str:
    """A provider's status inside a sentence: a marked word (said again in the reader's
    language) when it is one people are shown, else as the provider wrote it."""
    marked = PROVIDER_STATUSES.get(_status_key(status))
    return Message(marked) if marked else status


def status_name(status: str | None) -> str:
    """A provider's status shown on its own, in the reader's language."""
    if not status:
        return ""
    marked = PROVIDER_STATUSES.get(_status_key(status))
    return gettext(marked) if marked else status
