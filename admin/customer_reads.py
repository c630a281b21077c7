"""One provider's side of a customer, read live for the customer page: the account, who it
bills, masked payment methods, subscriptions, invoices, payments and refunds, and what this
provider lets a correction do. Each read that fails leaves its section empty with a sentence;
the page still shows the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.ports import (
    Account,
    AccountLookup,
    Accounts,
    BillingHistory,
    Contacts,
    Invoice,
    InvoicePdfs,
    InvoiceVoiding,
    Payment,
    PaymentMethod,
    PaymentMethods,
    Receipts,
    RefundResult,
    Refunds,
    Subscription,
    Subscriptions,
)
from admin.customer_search import PROVIDER_NAMES
from gateway.core.errors import BillingError
from gateway.i18n import N_, Message

Item = TypeVar("Item")
# What a provider could not give, one sentence per section (a Message says it in the reader's
# language on the page, with the provider's own refusal said the same way).
COULD_NOT_GIVE = {
    "contact": N_("{provider} could not give its contact: {error}"),
    "payment methods": N_("{provider} could not give its payment methods: {error}"),
    "subscriptions": N_("{provider} could not give its subscriptions: {error}"),
    "invoices": N_("{provider} could not give its invoices: {error}"),
    "payments": N_("{provider} could not give its payments: {error}"),
    "refunds": N_("{provider} could not give its refunds: {error}"),
}


@dataclass(frozen=True)
class Abilities:
    """What the page offers for this provider: the ports its adapter implements."""

    refund: bool
    cancel: bool
    void: bool
    invoice_pdf: bool
    receipt: bool


@dataclass
class ProviderSide:
    provider: str
    account: Account
    abilities: Abilities
    email: str | None = None
    methods: list[PaymentMethod] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunds: list[RefundResult] = field(default_factory=list)
    problems: list[Message] = field(default_factory=list)  # what could not be read, as sentences

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)

    def could_not_give(self, what: str, error: BillingError) -> None:
        self.problems.append(
            Message(COULD_NOT_GIVE[what], provider=self.provider_name, error=error.detail)
        )

    def refunds_of(self, payment_id: str) -> list[RefundResult]:
        return [refund for refund in self.refunds if refund.payment_id == payment_id]

    @property
    def other_refunds(self) -> list[RefundResult]:
        """Refunds of payments not in the list (older ones, or a payment the list leaves out)."""
        listed = {payment.id for payment in self.payments}
        return [refund for refund in self.refunds if refund.payment_id not in listed]


def abilities_of(adapter: Any) -> Abilities:
    return Abilities(
        refund=isinstance(adapter, Refunds) and isinstance(adapter, BillingHistory),
        cancel=isinstance(adapter, Subscriptions) and isinstance(adapter, BillingHistory),
        void=isinstance(adapter, InvoiceVoiding) and isinstance(adapter, BillingHistory),
        invoice_pdf=isinstance(adapter, InvoicePdfs),
        receipt=isinstance(adapter, Receipts),
    )


async def find_by_id(adapter: Any, account_id: str) -> Account | None:
    """The account the page is about, by the provider's id (or, for Zuora, its number)."""
    if not isinstance(adapter, Accounts):
        return None
    for lookup in (AccountLookup(id=account_id), AccountLookup(number=account_id)):
        try:
            found = await adapter.find_account(lookup)
        except BillingError:
            continue
        if found is not None:
            return found
    return None


async def _read(
    side: ProviderSide, what: str, call: Awaitable[Sequence[Item]] | None
) -> list[Item]:
    if call is None:
        return []
    try:
        return list(await call)
    except BillingError as error:
        side.could_not_give(what, error)
        return []


async def _email(side: ProviderSide, adapter: Any) -> str | None:
    if not isinstance(adapter, Contacts):
        return None
    try:
        contact = await adapter.contact_of(side.account.id)
    except BillingError as error:
        side.could_not_give("contact", error)
        return None
    return contact.email if contact else None


async def read_side(provider: str, adapter: Any, account: Account) -> ProviderSide:
    side = ProviderSide(provider, account, abilities_of(adapter))
    history = adapter if isinstance(adapter, BillingHistory) else None
    methods = adapter if isinstance(adapter, PaymentMethods) else None
    account_id = account.id
    if history is None:
        side.problems.append(
            Message(
                "{provider} gives no billing history here: invoices, payments and "
                "subscriptions are not shown.",
                provider=side.provider_name,
            )
        )
    (
        side.email,
        side.methods,
        side.subscriptions,
        side.invoices,
        side.payments,
        side.refunds,
    ) = await asyncio.gather(
        _email(side, adapter),
        _read(
            side, "payment methods", methods.list_payment_methods(account_id) if methods else None
        ),
        _read(side, "subscriptions", history.list_subscriptions(account_id) if history else None),
        _read(side, "invoices", history.list_invoices(account_id) if history else None),
        _read(side, "payments", history.list_payments(account_id) if history else None),
        _read(side, "refunds", history.list_refunds(account_id) if history else None),
    )
    return side
