"""How the customer page names what the providers say: statuses of accounts, subscriptions,
invoices, payments and refunds (Stripe's and Zuora's words), kinds of payment method, billing
periods, and the gateway's own request kinds and statuses. In English marked for the
catalogues, said in the reader's language; a code nobody named yet shows as the provider wrote
it. Money is shown the reader's way ("€49.00", "49,00 €")."""

from __future__ import annotations

from collections.abc import Callable

from adapters.money import from_minor_units
from adapters.ports import Money
from gateway.change_requests.states import Kind, Status
from gateway.i18n import N_, gettext
from gateway.i18n.formatting import format_minor
from gateway.i18n.labels import label
from gateway.i18n.values import status_name

METHOD_KINDS = {
    "sepa_debit": N_("SEPA direct debit"),
    "bank_transfer": N_("bank transfer"),
    "card": N_("card"),
    "other": N_("other"),
}
BILLING_PERIODS = {
    "day": N_("day"),
    "week": N_("week"),
    "month": N_("month"),
    "quarter": N_("quarter"),
    "semi_annual": N_("half-year"),
    "annual": N_("year"),
    "year": N_("year"),
}


def _key(code: str) -> str:
    return code.strip().lower().replace(" ", "_").replace("-", "_")


def _named(names: dict[str, str], code: str | None) -> str:
    if not code:
        return ""
    english = names.get(_key(code))
    return gettext(english) if english else code


def provider_status(code: str | None) -> str:
    return status_name(code)


def method_kind(code: str | None) -> str:
    return _named(METHOD_KINDS, code)


def billing_period(code: str | None) -> str:
    return _named(BILLING_PERIODS, code)


def request_kind(code: str) -> str:
    try:
        return label(Kind(code))
    except ValueError:
        return code


def request_status(code: str) -> str:
    try:
        return label(Status(code))
    except ValueError:
        return code


def money(amount: Money | None) -> str:
    """An amount the reader's way: "€49.00" in English, "49,00 €" in French."""
    if amount is None:
        return ""
    return format_minor(amount.amount_minor, amount.currency)


def typed_amount(amount: Money) -> str:
    """The amount as a person types it into the refund box ("49.00"), with no currency."""
    return str(from_minor_units(amount.amount_minor, amount.currency))


def label_helpers() -> dict[str, Callable[..., str]]:
    return {
        "provider_status": provider_status,
        "method_kind": method_kind,
        "billing_period": billing_period,
        "request_kind": request_kind,
        "request_status": request_status,
        "money": money,
        "typed_amount": typed_amount,
    }
