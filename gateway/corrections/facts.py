"""A fresh reading of the provider for one order: the payment, invoice or subscription it
names, and, for a cancellation, the customer's payments and invoices (its follow-up acts on
them). Read through the provider's circuit: an outage answers 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from adapters.ports import Accounts, BillingHistory, Invoice, Payment, Subscription
from gateway.billing.customers import find_customer
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections import queries
from gateway.corrections.plan import Order, ProviderFacts
from gateway.corrections.schemas import CancelCreate, RefundCreate, VoidCreate
from gateway.fulfilment.resilience import ProviderGuard
from gateway.i18n import Message

T = TypeVar("T")


def history_of(adapter: Any, provider: str) -> BillingHistory:
    if not isinstance(adapter, BillingHistory):
        raise BillingError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            Message(
                "The {provider} adapter cannot read payments and invoices yet, so it cannot "
                "correct them.",
                provider=provider,
            ),
            extra={"provider": provider},
        )
    return adapter


async def read_facts(adapter: Any, order: Order, guard: ProviderGuard) -> ProviderFacts:
    facts = await _read_facts(adapter, order, guard)
    step = getattr(adapter, "amount_step", None)  # a provider with a coarser smallest amount
    return replace(facts, amount_step=step) if callable(step) else facts


async def _read_facts(adapter: Any, order: Order, guard: ProviderGuard) -> ProviderFacts:
    provider = order.provider
    history = history_of(adapter, provider)

    async def read(call: Callable[[], Awaitable[T]]) -> T:
        return await guard.call_once(provider, call)

    today = datetime.now(UTC).date()
    if isinstance(order, RefundCreate):
        payment = await read(lambda: history.get_payment(order.payment_id))
        return await _with_reserved(ProviderFacts(today, payment=payment), provider)
    if isinstance(order, VoidCreate):
        return ProviderFacts(
            today, invoice=await read(lambda: history.get_invoice(order.invoice_id))
        )
    subscription = await _subscription(adapter, history, order, read)
    if subscription is None:
        return ProviderFacts(today)
    payments: tuple[Payment, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    if order.then != "nothing":
        account = subscription.account_id
        payments = tuple(await read(lambda: history.list_payments(account)))
        invoices = tuple(await read(lambda: history.list_invoices(account)))
    facts = ProviderFacts(today, subscription=subscription, payments=payments, invoices=invoices)
    return await _with_reserved(facts, provider)


async def _subscription(
    adapter: Any,
    history: BillingHistory,
    order: CancelCreate,
    read: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]],
) -> Subscription | None:
    """The subscription by its id where the adapter can; else among its customer's."""
    direct = getattr(adapter, "get_subscription", None)
    if callable(direct) and order.customer is None:
        return cast(Subscription | None, await read(lambda: direct(order.subscription_id)))
    if order.customer is None:
        raise BillingError(
            ErrorCode.CUSTOMER_UNIDENTIFIED,
            Message(
                "{provider} finds a subscription through its customer: give `customer` (the "
                "Zuora account number or id, or the Stripe customer id).",
                provider=order.provider.capitalize(),
            ),
            extra={"field": "customer"},
        )
    account_id = await _account_id(adapter, order.provider, order.customer, read)
    found = await read(lambda: history.list_subscriptions(account_id))
    return next((s for s in found if s.id == order.subscription_id), None)


async def _account_id(
    adapter: Any,
    provider: str,
    customer: str,
    read: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]],
) -> str:
    """The customer's provider id, by account number, provider id or back-office id."""
    if not isinstance(adapter, Accounts):
        return customer
    account = await read(lambda: find_customer(adapter, provider, customer))
    return str(account.id)


async def _with_reserved(facts: ProviderFacts, provider: str) -> ProviderFacts:
    ids = [p.id for p in ((facts.payment,) if facts.payment else facts.payments)]
    if not ids:
        return facts
    return replace(facts, reserved=await queries.reserved_on(provider, ids))
