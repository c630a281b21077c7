"""HTTP handlers for what the providers can do and one customer's billing state."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, TypeVar

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import PathParameter

from adapters.ports import (
    Account,
    Capability,
    Collection,
    Money,
    PaymentMethod,
    Subscription,
    capabilities_of,
    next_bill_cycle_date,
)
from gateway.api_keys.scopes import Scope
from gateway.billing.customers import configured_adapter, find_customer
from gateway.billing.schemas import (
    AccountOut,
    Capabilities,
    ChargeOut,
    CollectionOut,
    CustomerState,
    MoneyOut,
    PaymentMethodOut,
    ProviderCapabilities,
    SubscriptionOut,
)
from gateway.edge.auth import SCOPE_OPT
from gateway.edge.openapi import AUTHENTICATED, SECURITY, problems
from gateway.providers import Providers
from settings import Settings

READ = {SCOPE_OPT: Scope.BILLING_READ.value}
T = TypeVar("T")
# What a customer's billing state needs at least; subscriptions and debits in flight are read
# where the adapter can.
NEEDED = {Capability.ACCOUNTS, Capability.PAYMENT_METHODS}


def _money(money: Money) -> MoneyOut:
    return MoneyOut(amount_minor=money.amount_minor, currency=money.currency)


def _account(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        number=account.number,
        name=account.name,
        currency=account.currency,
        bill_cycle_day=account.bill_cycle_day,
        status=account.status,
    )


def _method(method: PaymentMethod) -> PaymentMethodOut:
    return PaymentMethodOut(
        id=method.id,
        kind=method.kind,
        active=method.active,
        is_default=method.is_default,
        masked=method.masked,
        holder=method.holder,
        mandate_id=method.mandate_id,
    )


def _subscription(subscription: Subscription, account: Account) -> SubscriptionOut:
    day = account.bill_cycle_day
    return SubscriptionOut(
        id=subscription.id,
        status=subscription.status,
        version=subscription.version,
        charges=[
            ChargeOut(
                id=charge.id,
                name=charge.name,
                quantity=charge.quantity,
                unit_price=_money(charge.unit_price),
                billing_period=charge.billing_period,
                effective_from=charge.effective_from,
            )
            for charge in subscription.charges
        ],
        next_billing_day=next_bill_cycle_date(day, date.today()) if day else None,
    )


def _collection(collection: Collection) -> CollectionOut:
    return CollectionOut(
        id=collection.id,
        amount=_money(collection.amount),
        status=collection.status,
        payment_method_id=collection.payment_method_id,
        effective_on=collection.effective_on,
    )


async def _nothing(value: T) -> T:
    return value


class BillingController(Controller):
    tags = ["billing"]
    security = SECURITY

    @get(
        "/capabilities",
        operation_id="getCapabilities",
        opt=READ,
        responses=problems(*AUTHENTICATED),
        summary="Which provider supports which operation, as configured",
    )
    async def capabilities(
        self, providers: NamedDependency[Providers], settings: NamedDependency[Settings]
    ) -> Capabilities:
        return Capabilities(
            providers=[
                ProviderCapabilities(
                    provider=name,
                    transport=adapter.transport_name,
                    sandbox=settings.sandbox,
                    capabilities=sorted(capabilities_of(adapter)),
                )
                for name, adapter in sorted(providers.adapters.items())
            ]
        )

    @get(
        "/customers/{provider:str}/{reference:str}",
        operation_id="getCustomer",
        opt=READ,
        responses=problems(
            *AUTHENTICATED, 404, 503, codes=["customer_not_found", "provider_unavailable"]
        ),
        summary="One customer's billing state: account, masked payment methods, "
        "subscription, debits in flight",
    )
    async def customer(
        self,
        provider: Annotated[str, PathParameter(max_length=40, pattern=r"^[a-z][a-z0-9_]*$")],
        reference: Annotated[str, PathParameter(max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")],
        providers: NamedDependency[Providers],
    ) -> CustomerState:
        adapter = configured_adapter(providers, provider, NEEDED)
        account = await find_customer(adapter, provider, reference)
        capabilities = capabilities_of(adapter)
        methods, subscription, collections = await asyncio.gather(
            adapter.list_payment_methods(account.id),
            adapter.active_subscription(account.id)
            if Capability.SUBSCRIPTIONS in capabilities
            else _nothing(None),
            adapter.collections_in_flight(account.id)
            if Capability.COLLECTIONS in capabilities
            else _nothing([]),
        )
        return CustomerState(
            provider=provider,
            account=_account(account),
            payment_methods=[_method(method) for method in methods],
            subscription=_subscription(subscription, account) if subscription else None,
            collections_in_flight=[_collection(collection) for collection in collections],
        )
