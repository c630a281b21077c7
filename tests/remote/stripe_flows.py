"""What the Stripe cassettes hold: the SEPA change for a customer, with fixed keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapters.ports import AccountLookup, NewSepaMethod, PaymentMethod
from adapters.stripe.adapter import StripeAdapter

NEW_IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True)
class SepaSeen:
    before: list[PaymentMethod]
    after: list[PaymentMethod]


async def read_customer(stripe: StripeAdapter, backoffice_id: str) -> list[PaymentMethod]:
    customer = await stripe.find_account(AccountLookup(backoffice_id=backoffice_id))
    assert customer is not None
    return list(await stripe.list_payment_methods(customer.id))


async def sepa_change(stripe: StripeAdapter, backoffice_id: str) -> SepaSeen:
    customer = await stripe.find_account(AccountLookup(backoffice_id=backoffice_id))
    assert customer is not None and customer.default_payment_method_id is not None
    before = list(await stripe.list_payment_methods(customer.id))
    created = await stripe.create_sepa_payment_method(
        customer.id,
        NewSepaMethod(
            iban=NEW_IBAN,
            holder=customer.name,
            email="billing@example.com",
            mandate_id="BG-CASSETTE-STRIPE",
            mandate_signed_on=date(2026, 11, 23),
        ),
        idempotency_key="cassette:stripe:setup",
    )
    await stripe.set_default_payment_method(customer.id, created.id, idempotency_key="cassette")
    await stripe.close_payment_method(
        customer.default_payment_method_id, idempotency_key="cassette"
    )
    return SepaSeen(before, list(await stripe.list_payment_methods(customer.id)))
