"""What /v1/capabilities and /v1/customers answer: masked data only, money in minor units."""

from __future__ import annotations

from datetime import date

from msgspec import Struct


class ProviderCapabilities(Struct, kw_only=True):
    provider: str
    transport: str
    sandbox: bool
    capabilities: list[str]


class Capabilities(Struct, kw_only=True):
    providers: list[ProviderCapabilities]


class MoneyOut(Struct, kw_only=True):
    amount_minor: int
    currency: str


class AccountOut(Struct, kw_only=True):
    id: str
    number: str
    name: str
    currency: str
    bill_cycle_day: int | None
    status: str


class PaymentMethodOut(Struct, kw_only=True):
    id: str
    kind: str
    active: bool
    is_default: bool
    masked: str | None  # country and last four only
    holder: str | None
    mandate_id: str | None


class ChargeOut(Struct, kw_only=True):
    id: str
    name: str
    quantity: int
    unit_price: MoneyOut
    billing_period: str
    effective_from: date | None


class SubscriptionOut(Struct, kw_only=True):
    id: str
    status: str
    version: int
    charges: list[ChargeOut]
    next_billing_day: date | None


class CollectionOut(Struct, kw_only=True):
    id: str
    amount: MoneyOut
    status: str
    payment_method_id: str | None
    effective_on: date | None


class CustomerState(Struct, kw_only=True):
    provider: str
    account: AccountOut
    payment_methods: list[PaymentMethodOut]
    subscription: SubscriptionOut | None
    collections_in_flight: list[CollectionOut]
