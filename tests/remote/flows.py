"""What the cassettes hold: the adapter's side of the two flows the issue names, step by step,
with nothing random in what it sends (fixed keys, the customer's next billing-cycle day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapters.ports import (
    AccountLookup,
    NewSepaMethod,
    PaymentMethod,
    QuantityChange,
    QuantityChangePreview,
    Subscription,
    next_bill_cycle_date,
)
from adapters.zuora.adapter import ZuoraAdapter

NEW_IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True)
class Observed:
    methods_before: list[PaymentMethod]
    methods_after: list[PaymentMethod]
    preview: QuantityChangePreview
    subscription_after: Subscription | None


async def read_and_preview(
    zuora: ZuoraAdapter, account_number: str, seats: int
) -> tuple[list[PaymentMethod], QuantityChangePreview, Subscription]:
    account = await zuora.find_account(AccountLookup(number=account_number))
    assert account is not None and account.bill_cycle_day is not None
    methods = list(await zuora.list_payment_methods(account.id))
    subscription = await zuora.active_subscription(account.id)
    assert subscription is not None
    day = next_bill_cycle_date(account.bill_cycle_day, date.today())
    change = QuantityChange(subscription.id, subscription.charges[0].id, seats, day)
    return methods, await zuora.preview_quantity_change(change), subscription


async def iban_and_tier_change(zuora: ZuoraAdapter, account_number: str, seats: int) -> Observed:
    methods, preview, subscription = await read_and_preview(zuora, account_number, seats)
    account = await zuora.find_account(AccountLookup(number=account_number))
    assert account is not None and account.bill_cycle_day is not None
    old = next(method for method in methods if method.is_default)
    created = await zuora.create_sepa_payment_method(
        account.id,
        NewSepaMethod(
            iban=NEW_IBAN,
            holder=account.name,
            email=None,
            mandate_id="BG-CASSETTE-1",
            mandate_signed_on=date(2026, 11, 23),
        ),
        idempotency_key="cassette:create-pm",
    )
    await zuora.set_default_payment_method(account.id, created.id, idempotency_key="cassette:dflt")
    await zuora.close_payment_method(old.id, idempotency_key="cassette:close")
    day = next_bill_cycle_date(account.bill_cycle_day, date.today())
    change = QuantityChange(subscription.id, subscription.charges[0].id, seats, day)
    after = await zuora.apply_quantity_change(change, idempotency_key="cassette:tier")
    return Observed(methods, list(await zuora.list_payment_methods(account.id)), preview, after)
