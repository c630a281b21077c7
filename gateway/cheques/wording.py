"""Values inside the cheque refusals that a back-office page says in the reader's language,
while the API, the logs and the audit trail keep the English text: an amount ("120.00 EUR" for
the API, "120,00 €" on a French page) and an invoice's status at the provider."""

from __future__ import annotations

from typing import Any

from adapters.money import format_money, from_minor_units
from gateway.i18n import N_, Message
from gateway.i18n.formatting import format_amount

# The provider-neutral invoice statuses (adapters.ports.InvoiceStatus), as people say them.
INVOICE_STATUSES = {
    "draft": N_("draft"),
    "open": N_("open"),
    "paid": N_("paid"),
    "void": N_("void"),
    "uncollectible": N_("uncollectible"),
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
        return format_amount(from_minor_units(self.amount_minor, self.currency), self.currency)

    def __reduce__(self) -> tuple[Any, ...]:
        return (AmountText, (self.amount_minor, self.currency))


def invoice_status_text(status: str) -> str:
    """The status as a marked word (said again in the reader's language), else as it is."""
    marked = INVOICE_STATUSES.get(status)
    return Message(marked) if marked else status
