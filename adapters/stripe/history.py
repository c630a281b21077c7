"""The Stripe adapter's billing history: a customer's invoices, payments (PaymentIntents with
their latest charge: what was refunded, how it was paid), refunds and subscriptions, newest
first. Mixed into StripeAdapter.

Stripe links an invoice to the PaymentIntents that paid it (the invoice's `payments`), not the
other way round, so a payment's invoices are read off the customer's invoices: one more list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.ports import Invoice, Payment, RefundResult, Subscription
from adapters.stripe.mapping import plain
from adapters.stripe.records import (
    from_stripe_invoice,
    from_stripe_payment,
    from_stripe_refund,
    from_stripe_subscription,
)
from gateway.core.errors import BillingError, ErrorCode

PAGE = 100  # Stripe's largest page


def _charge_of(intent: dict[str, Any]) -> dict[str, Any] | None:
    charge = intent.get("latest_charge")
    return charge if isinstance(charge, dict) else None


class StripeHistory:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

    async def _or_none(self, read: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await read()
        except BillingError as error:
            if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                return None
            raise

    # -- invoices ------------------------------------------------------------------------------

    async def _invoices(self, account_id: str, limit: int) -> list[Invoice]:
        found = await self._call(
            "listing the customer's invoices",
            lambda: self._stripe.invoices.list_async(
                params={
                    "customer": account_id,
                    "limit": max(1, min(limit, PAGE)),
                    "expand": ["data.payments"],
                }
            ),
        )
        return [from_stripe_invoice(invoice) for invoice in found.data]

    async def list_invoices(self, account_id: str, *, limit: int = 50) -> Sequence[Invoice]:
        return await self._invoices(account_id, limit)

    async def get_invoice(self, invoice_id: str) -> Invoice | None:
        found = await self._or_none(
            lambda: self._call(
                "reading the invoice",
                lambda: self._stripe.invoices.retrieve_async(
                    invoice_id, params={"expand": ["payments"]}
                ),
            )
        )
        return None if found is None else from_stripe_invoice(found)

    # -- payments and refunds ------------------------------------------------------------------

    async def _intents(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        """The customer's PaymentIntents that were charged (an intent never confirmed is no
        payment), each with its latest charge."""
        found = await self._call(
            "listing the customer's payments",
            lambda: self._stripe.payment_intents.list_async(
                params={
                    "customer": account_id,
                    "limit": max(1, min(limit, PAGE)),
                    "expand": ["data.latest_charge"],
                }
            ),
        )
        intents = [plain(intent) for intent in found.data]
        return [intent for intent in intents if intent.get("latest_charge")]

    async def _with_charge(self, intent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        charge = _charge_of(intent)
        if charge is None:  # a server that does not expand: read the charge
            charge = plain(
                await self._call(
                    "reading the charge",
                    lambda: self._stripe.charges.retrieve_async(str(intent["latest_charge"])),
                )
            )
        return intent, charge

    @staticmethod
    def _paid_by(invoices: Sequence[Invoice], payment_id: str) -> tuple[str, ...]:
        return tuple(invoice.id for invoice in invoices if payment_id in invoice.payment_ids)

    async def list_payments(self, account_id: str, *, limit: int = 50) -> Sequence[Payment]:
        intents = await self._intents(account_id, limit)
        invoices = await self._invoices(account_id, PAGE) if intents else []
        payments = []
        for intent in intents:
            intent, charge = await self._with_charge(intent)
            invoice_ids = self._paid_by(invoices, str(intent["id"]))
            payments.append(from_stripe_payment(intent, charge, invoice_ids))
        return payments

    async def get_payment(self, payment_id: str) -> Payment | None:
        found = await self._or_none(
            lambda: self._call(
                "reading the payment",
                lambda: self._stripe.payment_intents.retrieve_async(
                    payment_id, params={"expand": ["latest_charge"]}
                ),
            )
        )
        if found is None or not plain(found).get("latest_charge"):
            return None
        intent, charge = await self._with_charge(plain(found))
        invoices = await self._invoices(str(intent["customer"]), PAGE)
        return from_stripe_payment(intent, charge, self._paid_by(invoices, payment_id))

    async def list_refunds(self, account_id: str, *, limit: int = 50) -> Sequence[RefundResult]:
        """Stripe lists refunds by payment, not by customer: those of the customer's payments
        that have anything refunded."""
        refunds: list[RefundResult] = []
        for intent in await self._intents(account_id, PAGE):
            intent, charge = await self._with_charge(intent)
            if int(charge.get("amount_refunded") or 0):
                refunds += await self._refunds_of(str(intent["id"]))
        refunds.sort(key=lambda refund: (refund.created_at is not None, refund.created_at))
        return list(reversed(refunds))[: max(limit, 0)]

    async def _refunds_of(self, payment_id: str) -> list[RefundResult]:
        found = await self._call(
            "listing the payment's refunds",
            lambda: self._stripe.refunds.list_async(
                params={"payment_intent": payment_id, "limit": PAGE}
            ),
        )
        return [from_stripe_refund(refund) for refund in found.data]

    # -- subscriptions -------------------------------------------------------------------------

    async def list_subscriptions(self, account_id: str) -> Sequence[Subscription]:
        """Every subscription of the customer, cancelled ones included."""
        found = await self._call(
            "listing the customer's subscriptions",
            lambda: self._stripe.subscriptions.list_async(
                params={"customer": account_id, "status": "all", "limit": PAGE}
            ),
        )
        return [from_stripe_subscription(subscription) for subscription in found.data]

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription by its id, with its period; None when Stripe has no such one."""
        found = await self._or_none(
            lambda: self._call(
                "reading the subscription",
                lambda: self._stripe.subscriptions.retrieve_async(subscription_id),
            )
        )
        return from_stripe_subscription(plain(found)) if found is not None else None
