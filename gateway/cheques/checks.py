"""What a cheque must pass before anything is stored: no card number or IBAN in its text, a
depositor who is an active operations member, the provider's adapter, the account read fresh,
and the invoice it pays (open, the account's, in its currency, owing at least the amount)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.money import UnknownCurrencyError, exponent_of
from adapters.ports import (
    Account,
    AccountLookup,
    Accounts,
    BillingHistory,
    Invoice,
    OfflinePayments,
)
from gateway.billing.customers import find_customer
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import refuse_card_or_iban
from gateway.fulfilment.resilience import ProviderGuard
from gateway.i18n import Message
from gateway.i18n.values import AmountText, status_text
from gateway.providers import Providers
from gateway.staff import queries
from gateway.staff.roles import Role

T = TypeVar("T")
_NOT_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class StaffRow:
    id: int
    username: str
    first_name: str | None
    last_name: str | None
    role: str
    active: bool


def refuse_card_numbers(reference: str, note: str | None) -> None:
    """A card number written on a mailed order is never stored: not in the reference, not in
    the note (and never echoed back). A reference whose digits alone are a card number counts."""
    refuse_card_or_iban(
        reference,
        _NOT_DIGITS.sub("", reference),
        note,
        card=Message(
            "The cheque's reference or note holds a card number. Enter the number printed "
            "on the cheque and leave card details out; destroy the card number on the order."
        ),
    )
    refuse_card_or_iban(
        reference,
        note,
        iban=Message(
            "The cheque's reference or note holds an IBAN. Enter the number printed on the "
            "cheque and leave bank details out."
        ),
    )


def refuse_unknown_currency(currency: str) -> None:
    try:
        exponent_of(currency)
    except UnknownCurrencyError:
        raise BillingError(
            ErrorCode.CURRENCY_UNKNOWN,
            Message(
                "{currency} is not an ISO 4217 currency code: give the cheque's currency (EUR, "
                "USD, GBP, ...).",
                currency=currency,
            ),
            extra={"field": "currency"},
        ) from None


async def staff_by(*, staff_id: int | None = None, username: str | None = None) -> StaffRow | None:
    rows = await fetch(
        queries.BY_ID_OR_USERNAME,
        staff_id,
        username.strip().lower() if username is not None else None,
    )
    return StaffRow(**rows[0]) if rows else None


async def depositor_named(username: str) -> StaffRow:
    """Through the API: `depositor` names an active operations member."""
    found = await staff_by(username=username)
    if found is None or not found.active or found.role != Role.OPERATIONS.value:
        raise BillingError(
            ErrorCode.DEPOSITOR_UNKNOWN,
            Message(
                "No active operations member has the username {username!r}: name the member "
                "who deposits the cheque (their initials number it).",
                username=username,
            ),
            extra={"field": "depositor"},
        )
    return found


def offline_adapter(providers: Providers, provider: str) -> Any:
    """The provider's adapter, able to find accounts, read invoices and record cheques."""
    adapter = providers.get(provider)
    if adapter is None:
        raise BillingError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            Message("The gateway has no {provider} configured.", provider=provider),
            extra={"provider": provider},
        )
    if not (
        isinstance(adapter, OfflinePayments)
        and isinstance(adapter, Accounts)
        and isinstance(adapter, BillingHistory)
    ):
        raise BillingError(
            ErrorCode.PROVIDER_LACKS_CAPABILITY,
            Message(
                "The gateway cannot record offline payments at {provider}: its adapter has no "
                "offline_payments capability.",
                provider=provider.capitalize(),
            ),
            extra={"provider": provider},
        )
    return adapter


async def find_account(adapter: Any, provider: str, reference: str) -> Account:
    """By the provider's id, account number, back-office id or (with an @) email."""
    if "@" in reference:
        found: Account | None = await adapter.find_account(AccountLookup(email=reference))
        if found is None:
            raise BillingError(
                ErrorCode.CUSTOMER_NOT_FOUND,
                Message(
                    "{provider} has no account with the email {email}.",
                    provider=provider.capitalize(),
                    email=reference,
                ),
            )
        return found
    return await find_customer(adapter, provider, reference)


async def find_invoice(
    adapter: Any,
    account: Account,
    reference: str,
    read: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]],
) -> Invoice:
    """The account's invoice by its id, or by its number among the account's invoices."""
    invoice: Invoice | None = await read(lambda: adapter.get_invoice(reference))
    if invoice is None or invoice.account_id != account.id:
        listed = await read(lambda: adapter.list_invoices(account.id, limit=100))
        invoice = next((i for i in listed if reference in (i.id, i.number)), None)
    if invoice is None or invoice.account_id != account.id:
        raise BillingError(
            ErrorCode.PROVIDER_NOT_FOUND,
            Message(
                "Account {account} has no invoice {invoice}: choose one of its open invoices, "
                "or record the cheque as a credit.",
                account=account.number or account.id,
                invoice=reference,
            ),
            extra={"field": "invoice_id"},
        )
    return invoice


def refuse_unpayable(invoice: Invoice, amount_minor: int, currency: str) -> None:
    name = invoice.number or invoice.id
    if invoice.status != "open" or invoice.balance.amount_minor <= 0:
        raise BillingError(
            ErrorCode.INVOICE_NOT_OPEN,
            Message(
                "Invoice {invoice} is {status}, not open: a cheque pays an open invoice, or "
                "record it as a credit for the next one.",
                invoice=name,
                status=status_text(invoice.status),
            ),
            extra={"invoice_status": invoice.status},
        )
    if invoice.balance.currency != currency:
        raise BillingError(
            ErrorCode.CURRENCY_MISMATCH,
            Message(
                "Invoice {invoice} is in {invoice_currency}, the cheque in {currency}: a cheque "
                "pays an invoice in its own currency.",
                invoice=name,
                invoice_currency=invoice.balance.currency,
                currency=currency,
            ),
        )
    if amount_minor > invoice.balance.amount_minor:
        balance = invoice.balance.amount_minor
        raise BillingError(
            ErrorCode.CHEQUE_EXCEEDS_INVOICE,
            Message(
                "The cheque ({amount}) is more than invoice {invoice} still owes ({balance}): "
                "record the difference as a credit in a second entry, or check the amount.",
                amount=AmountText(amount_minor, currency),
                invoice=name,
                balance=AmountText(balance, currency),
            ),
            extra={"balance": {"amount_minor": balance, "currency": currency}},
        )


def refuse_credit_currency(account: Account, currency: str) -> None:
    if account.currency.upper() != currency:
        raise BillingError(
            ErrorCode.CURRENCY_MISMATCH,
            Message(
                "Account {account} is billed in {account_currency}, the cheque is in "
                "{currency}: a credit must be in the account's currency.",
                account=account.number or account.id,
                account_currency=account.currency,
                currency=currency,
            ),
        )


async def read_through(guard: ProviderGuard, provider: str, call: Callable[[], Awaitable[T]]) -> T:
    return await guard.call_once(provider, call)
