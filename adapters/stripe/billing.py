"""The Stripe adapter's billing ports: subscriptions (seat changes with an explicit proration
choice, previewed first with the same proration date), cancellation, refunds (never more than is
left to refund), invoice voiding and document links. Mixed into StripeAdapter."""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from adapters.ports import (
    DocumentLinks,
    Money,
    QuantityChange,
    QuantityChangePreview,
    RecurringCharge,
    RefundResult,
    Subscription,
)
from adapters.stripe.calls import under_key
from adapters.stripe.client import derived_key, fresh_key
from adapters.stripe.mapping import plain
from gateway.errors import BillingError, ErrorCode


def _timestamp(day: date) -> int:
    return calendar.timegm(day.timetuple())


def _plan_as_price(plan: dict[str, Any]) -> dict[str, Any]:
    """A legacy Plan (older accounts, localstripe) read as the Price that replaced it."""
    return {
        "product": plan.get("product"),
        "nickname": plan.get("nickname"),
        "unit_amount": plan.get("amount"),
        "currency": plan.get("currency", "eur"),
        "recurring": {"interval": plan.get("interval", "month")},
    }


def from_stripe_subscription(stripe_subscription: Any) -> Subscription:
    subscription = plain(stripe_subscription)
    charges = []
    for item in subscription["items"]["data"]:
        price = item.get("price") or _plan_as_price(item.get("plan") or {})
        interval = (price.get("recurring") or {}).get("interval", "month")
        charges.append(
            RecurringCharge(
                id=str(item["id"]),
                name=str(price.get("nickname") or price.get("product")),
                quantity=int(item.get("quantity") or 0),
                unit_price=Money(
                    int(price.get("unit_amount") or 0), str(price["currency"]).upper()
                ),
                billing_period="Month" if interval == "month" else interval.capitalize(),
            )
        )
    return Subscription(
        id=str(subscription["id"]),
        account_id=str(subscription["customer"]),
        status=str(subscription["status"]),
        version=1,  # Stripe keeps one version of a subscription
        charges=tuple(charges),
    )


def _refund_result(refund: dict[str, Any]) -> RefundResult:
    return RefundResult(
        str(refund["id"]),
        Money(int(refund["amount"]), str(refund["currency"]).upper()),
        str(refund["status"]),
    )


class StripeBilling:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

    # -- subscriptions -------------------------------------------------------------------------

    async def active_subscription(self, account_id: str) -> Subscription | None:
        found = await self._call(
            "reading the active subscription",
            lambda: self._stripe.subscriptions.list_async(
                params={"customer": account_id, "status": "active", "limit": 1}
            ),
        )
        return from_stripe_subscription(found.data[0]) if found.data else None

    async def _subscription(self, subscription_id: str) -> Any:
        return plain(
            await self._call(
                "reading the subscription",
                lambda: self._stripe.subscriptions.retrieve_async(subscription_id),
            )
        )

    async def _change(self, change: QuantityChange) -> tuple[Any, Any, int]:
        """The subscription, the item to change, and the proration date: the preview's when the
        change carries it, else the start of `effective_on` (UTC), or the period's start if
        that is earlier."""
        subscription = await self._subscription(change.subscription_id)
        item = next(
            (item for item in subscription["items"]["data"] if item["id"] == change.charge_id),
            None,
        )
        if item is None:
            raise BillingError(
                ErrorCode.PROVIDER_NOT_FOUND,
                f"The subscription {change.subscription_id} has no item {change.charge_id}.",
            )
        if change.quantity < 1:
            raise BillingError(ErrorCode.VALIDATION_FAILED, "The new quantity must be at least 1.")
        start, end = int(item["current_period_start"]), int(item["current_period_end"])
        at = change.proration_date or max(_timestamp(change.effective_on), start)
        if change.proration_date is not None and not start <= at <= end:
            raise BillingError(
                ErrorCode.PREVIEW_CHANGED,
                "The subscription's billing period moved on since the preview; preview the "
                "change again.",
                extra={"proration_date": at, "period": {"start": start, "end": end}},
            )
        if at > end:
            raise BillingError(
                ErrorCode.NOT_ON_BILLING_DAY,
                "Stripe prorates a seat change within the current period, which ends before "
                f"{change.effective_on.isoformat()}.",
            )
        return subscription, item, at

    async def preview_quantity_change(self, change: QuantityChange) -> QuantityChangePreview:
        subscription, item, at = await self._change(change)
        preview = await self._call(
            "previewing the seat change",
            lambda: self._stripe.invoices.create_preview_async(
                params={
                    "customer": subscription["customer"],
                    "subscription": subscription["id"],
                    "subscription_details": {
                        "items": [{"id": item["id"], "quantity": change.quantity}],
                        "proration_behavior": change.proration,
                        "proration_date": at,
                    },
                },
                # A read that Stripe takes as a POST: a fresh key, so no stale answer replays.
                options={"idempotency_key": fresh_key("preview")},
            ),
        )
        current = from_stripe_subscription(subscription)
        currency = current.charges[0].unit_price.currency
        before = sum(c.quantity * c.unit_price.amount_minor for c in current.charges)
        unit = int(item["price"]["unit_amount"])
        after = before + (change.quantity - int(item["quantity"])) * unit
        return QuantityChangePreview(
            effective_on=change.effective_on,
            next_invoice=Money(int(plain(preview)["amount_due"]), currency),
            recurring_before=Money(before, currency),
            recurring_after=Money(after, currency),
            proration=change.proration,
            proration_date=at,
        )

    @under_key
    async def apply_quantity_change(
        self, change: QuantityChange, *, idempotency_key: str
    ) -> Subscription:
        _subscription, item, at = await self._change(change)
        await self._call(
            "applying the seat change",
            lambda: self._stripe.subscription_items.update_async(
                item["id"],
                params={
                    "quantity": change.quantity,
                    "proration_behavior": change.proration,
                    "proration_date": at,
                },
                options={"idempotency_key": derived_key(idempotency_key, "seat-change")},
            ),
        )
        return from_stripe_subscription(await self._subscription(change.subscription_id))

    @under_key
    async def cancel_subscription(
        self, subscription_id: str, effective_on: date, *, idempotency_key: str
    ) -> None:
        subscription = await self._subscription(subscription_id)
        if subscription["status"] == "canceled":
            return  # done already
        step = "cancelling the subscription"
        if effective_on <= date.today():
            await self._call(step, lambda: self._stripe.subscriptions.cancel_async(subscription_id))
            return
        await self._call(
            step,
            lambda: self._stripe.subscriptions.update_async(
                subscription_id,
                params={"cancel_at": _timestamp(effective_on)},
                options={"idempotency_key": derived_key(idempotency_key, "cancel-at")},
            ),
        )

    # -- refunds and invoices ------------------------------------------------------------------

    @under_key
    async def refund_payment(
        self, payment_id: str, amount: Money, *, idempotency_key: str
    ) -> RefundResult:
        step = "refunding the payment"
        intent = plain(
            await self._call(step, lambda: self._stripe.payment_intents.retrieve_async(payment_id))
        )
        latest = intent["latest_charge"]
        # An id, or the charge itself where the server expands it (as with `expand`).
        charge = (
            latest
            if isinstance(latest, dict)
            else plain(
                await self._call(step, lambda: self._stripe.charges.retrieve_async(str(latest)))
            )
        )
        key = derived_key(idempotency_key, "refund")
        earlier = await self._refund_made_with(payment_id, key)
        if earlier is not None:
            return earlier  # a repeat: what was refunded then, not a second refund
        left = int(charge["amount"]) - int(charge["amount_refunded"])
        if (
            amount.currency.lower() != str(charge["currency"]).lower()
            or not 0 < (amount.amount_minor) <= left
        ):
            raise BillingError(
                ErrorCode.REFUND_EXCEEDS_PAYMENT,
                f"A refund must be between 1 and {left} {str(charge['currency']).upper()} "
                "minor units: what is left to refund on this payment.",
                extra={"refundable": {"amount_minor": left, "currency": charge["currency"]}},
            )
        refund = plain(
            await self._call(
                step,
                lambda: self._stripe.refunds.create_async(
                    params={
                        "payment_intent": payment_id,
                        "amount": amount.amount_minor,
                        "metadata": {"gateway_key": key},
                    },
                    options={"idempotency_key": key},
                ),
            )
        )
        return _refund_result(refund)

    async def _refund_made_with(self, payment_id: str, key: str) -> RefundResult | None:
        refunds = await self._call(
            "looking for an earlier refund",
            lambda: self._stripe.refunds.list_async(
                params={"payment_intent": payment_id, "limit": 100}
            ),
        )
        for refund in refunds.data:
            if (plain(refund).get("metadata") or {}).get("gateway_key") == key:
                return _refund_result(plain(refund))
        return None

    @under_key
    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        step = "voiding the invoice"
        invoice = plain(
            await self._call(step, lambda: self._stripe.invoices.retrieve_async(invoice_id))
        )
        if invoice["status"] == "void":
            return
        if invoice["status"] != "open":
            raise BillingError(
                ErrorCode.PROVIDER_CONFLICT,
                f"Only an open invoice can be voided; this one is {invoice['status']} "
                "(refund a paid invoice instead).",
            )
        await self._call(
            step,
            lambda: self._stripe.invoices.void_invoice_async(
                invoice_id, options={"idempotency_key": derived_key(idempotency_key, "void")}
            ),
        )

    async def invoice_links(self, invoice_id: str) -> DocumentLinks:
        step = "reading the invoice"
        invoice = plain(
            await self._call(step, lambda: self._stripe.invoices.retrieve_async(invoice_id))
        )
        receipt = None
        if invoice.get("charge"):
            charge = plain(
                await self._call(
                    step, lambda: self._stripe.charges.retrieve_async(str(invoice["charge"]))
                )
            )
            receipt = charge.get("receipt_url")
        return DocumentLinks(
            invoice_pdf=invoice.get("invoice_pdf"),
            hosted_invoice=invoice.get("hosted_invoice_url"),
            receipt=receipt,
        )
