"""The Stripe adapter's billing ports: subscriptions (seat changes with an explicit proration
choice, previewed first with the same proration date), cancellation, invoice voiding and
document links. Mixed into StripeAdapter."""

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
    Subscription,
)
from adapters.stripe.calls import under_key
from adapters.stripe.client import derived_key, fresh_key
from adapters.stripe.mapping import plain
from adapters.stripe.records import (
    from_stripe_subscription,
    invoice_payment_ids,
)
from adapters.stripe.units import from_stripe_amount
from gateway.core.errors import BillingError, ErrorCode


def _timestamp(day: date) -> int:
    return calendar.timegm(day.timetuple())


VOIDABLE = ("open", "uncollectible")


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
        unit = from_stripe_amount(int(item["price"]["unit_amount"]), currency).amount_minor
        after = before + (change.quantity - int(item["quantity"])) * unit
        return QuantityChangePreview(
            effective_on=change.effective_on,
            next_invoice=from_stripe_amount(int(plain(preview)["amount_due"]), currency),
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
        """Now (today or earlier), at the end of the current period (its end date: Stripe's
        `cancel_at_period_end`, exact to the second), or at the start of a day (UTC). Never
        prorated by Stripe: what is refunded is the gateway's decision (a correction step)."""
        subscription = await self._subscription(subscription_id)
        if subscription["status"] == "canceled":
            return  # done already
        step = "cancelling the subscription"
        if effective_on <= date.today():
            await self._call(step, lambda: self._stripe.subscriptions.cancel_async(subscription_id))
            return
        period_end = from_stripe_subscription(subscription).current_period_end
        params: dict[str, Any]
        if effective_on == period_end:
            if subscription.get("cancel_at_period_end"):
                return  # scheduled already
            params, operation = {"cancel_at_period_end": True}, "cancel-at-period-end"
        else:
            if subscription.get("cancel_at") == _timestamp(effective_on):
                return
            params = {"cancel_at": _timestamp(effective_on), "proration_behavior": "none"}
            operation = "cancel-at"
        await self._call(
            step,
            lambda: self._stripe.subscriptions.update_async(
                subscription_id,
                params=params,
                options={"idempotency_key": derived_key(idempotency_key, operation)},
            ),
        )

    # -- invoices ------------------------------------------------------------------------------

    @under_key
    async def void_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        step = "voiding the invoice"
        invoice = plain(
            await self._call(step, lambda: self._stripe.invoices.retrieve_async(invoice_id))
        )
        if invoice["status"] == "void":
            return
        if invoice["status"] not in VOIDABLE:  # Stripe's rule: finalized and not paid
            raise BillingError(
                ErrorCode.INVOICE_NOT_OPEN,
                f"Stripe voids only open or uncollectible invoices; {invoice_id} is "
                f"{invoice['status']}"
                + (" (refund its payment instead)." if invoice["status"] == "paid" else "."),
                extra={"provider": "stripe", "invoice_status": invoice["status"]},
            )
        await self._call(
            step,
            lambda: self._stripe.invoices.void_invoice_async(
                invoice_id, options={"idempotency_key": derived_key(idempotency_key, "void")}
            ),
        )

    async def invoice_links(self, invoice_id: str) -> DocumentLinks:
        """The invoice's PDF and hosted page, and the receipt of the payment that paid it
        (the invoice's first InvoicePayment, or the older `charge`)."""
        step = "reading the invoice"
        invoice = plain(
            await self._call(
                step,
                lambda: self._stripe.invoices.retrieve_async(
                    invoice_id, params={"expand": ["payments"]}
                ),
            )
        )
        receipt = None
        paid_by = invoice_payment_ids(invoice)
        if paid_by:
            intent = plain(
                await self._call(
                    step,
                    lambda: self._stripe.payment_intents.retrieve_async(
                        paid_by[0], params={"expand": ["latest_charge"]}
                    ),
                )
            )
            charge = intent.get("latest_charge")
            receipt = charge.get("receipt_url") if isinstance(charge, dict) else None
        elif invoice.get("charge"):
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
