"""Products, prices, subscriptions, invoices, payment intents and refunds in the emulator, with
Stripe's rules where the gateway relies on them:
- a subscription item's quantity change is prorated to the second (or to `proration_date`) with
  `create_prorations`, invoiced at once with `always_invoice`, or not at all with `none`;
- the next-invoice preview (`POST /v1/invoices/create_preview`) says what that change will cost
  without making it;
- an open invoice can be voided, a paid one cannot;
- a refund never exceeds what is left to refund on the payment.
Periods are 30 days, which keeps proration arithmetic exact enough to check by hand.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

from adapters.stripe.emulator.amounts import refuse_amount_stripe_refuses
from adapters.stripe.emulator.debits import Debits
from adapters.stripe.emulator.invoicing import create_invoice, invoice_fields
from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]
PERIOD_SECONDS = 30 * 86400
PRORATIONS = ("create_prorations", "always_invoice", "none")


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


class Billing(Debits):
    def __init__(self, account: StripeAccount) -> None:
        self.account = account

    # -- catalogue and subscriptions ---------------------------------------------------------

    def create_price(
        self,
        product_name: str,
        unit_amount: int,
        currency: str,
        nickname: str | None = None,
        price_id: str | None = None,
        interval: str = "month",
    ) -> StripeObject:
        product = self.account.new("prod", "product", {"name": product_name, "active": True})
        return self.account.new(
            "price",
            "price",
            {
                "product": product["id"],
                "nickname": nickname,
                "unit_amount": unit_amount,
                "currency": currency,
                "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
                "type": "recurring",
                "active": True,
            },
            price_id,
        )

    def create_subscription(
        self,
        customer_id: str,
        price_id: str,
        quantity: int,
        subscription_id: str | None = None,
        item_id: str | None = None,
        *,
        started_days_ago: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> StripeObject:
        """Monthly prices run 30-day periods, yearly ones 365 days; the period started a third
        of the way back unless `started_days_ago` says."""
        self.account.get("customer", customer_id, "customer")
        price = self.account.get("price", price_id, "items[0][price]")
        yearly = price["recurring"]["interval"] == "year"
        length = 365 * 86400 if yearly else PERIOD_SECONDS
        back = length // 3 if started_days_ago is None else started_days_ago * 86400
        start = int(time.time()) - back
        subscription = self.account.new(
            "sub",
            "subscription",
            {
                "customer": customer_id,
                "status": "active",
                "billing_cycle_anchor": start,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "cancel_at": None,
                "metadata": dict(metadata or {}),
                "pending_invoice_items": [],
            },
            subscription_id,
        )
        item = self.account.new(
            "si",
            "subscription_item",
            {
                "subscription": subscription["id"],
                "price": price,
                "quantity": quantity,
                "current_period_start": start,
                "current_period_end": start + length,
                "metadata": {},
            },
            item_id,
        )
        subscription["items"] = {"object": "list", "data": [item], "has_more": False}
        return subscription

    def renew_periods(self, now: float | None = None) -> None:
        """Stripe starts a subscription's next period when one ends; the sandbox's state file
        outlives periods, so they are moved on when read (pending prorations are billed)."""
        moment = time.time() if now is None else now
        for item in self.account.all("subscription_item"):
            subscription = self.account.objects.get(item["subscription"])
            if subscription is None or subscription["status"] != "active":
                continue
            if self._ends_by(subscription, item, moment):
                subscription["status"], subscription["canceled_at"] = "canceled", int(moment)
                continue
            length = item["current_period_end"] - item["current_period_start"]
            while item["current_period_end"] < moment:
                item["current_period_start"] = item["current_period_end"]
                item["current_period_end"] += length or PERIOD_SECONDS
                subscription["pending_invoice_items"] = []

    @staticmethod
    def _ends_by(subscription: StripeObject, item: StripeObject, moment: float) -> bool:
        """A cancellation scheduled for a moment that has passed (`cancel_at`, or the end of
        the period with `cancel_at_period_end`) has taken effect."""
        at = subscription.get("cancel_at")
        if subscription.get("cancel_at_period_end"):
            at = item["current_period_end"]
        return at is not None and int(at) <= moment

    def update_item(self, item_id: str, params: Params) -> StripeObject:
        item = self.account.get("subscription_item", item_id)
        subscription = self.account.get("subscription", item["subscription"])
        if subscription["status"] != "active":
            raise StripeError(
                400, "A canceled subscription cannot be updated.", code="resource_missing"
            )
        behaviour = self._proration(params)
        quantity = _int(params.get("quantity", item["quantity"]), "quantity")
        if quantity < 1:
            raise StripeError(400, "The quantity must be at least 1.", param="quantity")
        lines = self._proration_lines(item, quantity, params.get("proration_date"), behaviour)
        if behaviour == "create_prorations":
            subscription["pending_invoice_items"] += lines
        elif behaviour == "always_invoice" and lines:
            self._invoice(subscription["customer"], subscription["id"], lines, status="paid")
        item["quantity"] = quantity
        return item

    def cancel(self, subscription_id: str) -> StripeObject:
        subscription = self.account.get("subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(
                400,
                "This subscription is already canceled.",
                code="resource_missing",
            )
        subscription["status"] = "canceled"
        subscription["canceled_at"] = int(time.time())
        return subscription

    def schedule_cancel(self, subscription_id: str, params: Params) -> StripeObject:
        """`POST /v1/subscriptions/{id}` with `cancel_at`: the only update the gateway makes."""
        subscription = self.account.get("subscription", subscription_id)
        unknown = set(params) - {
            "cancel_at",
            "cancel_at_period_end",
            "proration_behavior",
            "metadata",
        }
        if unknown:
            raise StripeError(400, f"The emulator does not update {sorted(unknown)}.")
        if subscription["status"] == "canceled":
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        self._proration(params)
        if "cancel_at" in params:
            at = params["cancel_at"]
            subscription["cancel_at"] = _int(at, "cancel_at") if at != "" else None
            subscription["cancel_at_period_end"] = False
        if "cancel_at_period_end" in params:
            at_end = str(params["cancel_at_period_end"]).lower() == "true"
            subscription["cancel_at_period_end"] = at_end
            subscription["cancel_at"] = (
                subscription["items"]["data"][0]["current_period_end"] if at_end else None
            )
        if "metadata" in params:
            subscription["metadata"] = {**subscription["metadata"], **(params["metadata"] or {})}
        return subscription

    def preview(self, params: Params) -> StripeObject:
        """The next invoice of a subscription, with the changes in `subscription_details`."""
        subscription = self.account.get(
            "subscription", str(params.get("subscription") or ""), "subscription"
        )
        details = params.get("subscription_details") or {}
        behaviour = self._proration(details)
        changes = {
            str(change.get("id")): _int(change.get("quantity"), "quantity")
            for change in details.get("items") or []
        }
        lines = list(subscription["pending_invoice_items"])
        items = subscription["items"]["data"]
        for item in items:
            if item["id"] in changes and behaviour == "create_prorations":
                lines += self._proration_lines(
                    item, changes[item["id"]], details.get("proration_date"), behaviour
                )
        for item in items:
            quantity = changes.get(item["id"], item["quantity"])
            lines.append(
                {
                    "description": f"{quantity} x {item['price']['product']} (next period)",
                    "amount": quantity * item["price"]["unit_amount"],
                    "quantity": quantity,
                    "proration": False,
                }
            )
        return self._invoice_object(subscription["customer"], subscription["id"], lines, "draft")

    # -- invoices, payments, refunds ---------------------------------------------------------

    def pay_invoice_now(
        self,
        subscription_id: str,
        status: str = "paid",
        method_details: dict[str, Any] | None = None,
    ) -> StripeObject:
        """A paid invoice for the current period, with its payment (a card, unless
        `method_details` says), what a demo customer has; or an `open` one, not paid yet."""
        subscription = self.account.get("subscription", subscription_id)
        lines = [
            {
                "description": "current period",
                "amount": item["quantity"] * item["price"]["unit_amount"],
                "quantity": item["quantity"],
                "proration": False,
            }
            for item in subscription["items"]["data"]
        ]
        customer = subscription["customer"]
        return self._invoice(customer, subscription_id, lines, status, method_details)

    def void(self, invoice_id: str) -> StripeObject:
        """Stripe voids a finalized invoice that is not paid: open or uncollectible."""
        invoice = self.account.get("invoice", invoice_id)
        if invoice["status"] not in ("open", "uncollectible"):
            raise StripeError(
                400,
                "You can only void open or uncollectible invoices. This invoice is "
                f"{invoice['status']}.",
                code="invoice_not_editable" if invoice["status"] == "paid" else None,
            )
        invoice["status"] = "void"
        invoice["status_transitions"]["voided_at"] = int(time.time())
        self.account.emit("invoice.voided", invoice)
        return invoice

    def refund(self, params: Params) -> StripeObject:
        intent = self.account.get(
            "payment_intent", str(params.get("payment_intent") or ""), "payment_intent"
        )
        charge = self.account.get("charge", intent["latest_charge"])
        left = charge["amount"] - charge["amount_refunded"]
        amount = _int(params.get("amount", left), "amount")
        if amount < 1 or amount > left:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
                code="amount_too_large" if amount > left else None,
                param="amount",
            )
        refuse_amount_stripe_refuses(amount, charge["currency"])
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = self.account.new(
            "re",
            "refund",
            {
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": intent["id"],
                "status": "succeeded",
                "reason": params.get("reason"),
                "metadata": params.get("metadata") or {},
            },
        )
        self.account.emit("refund.created", refund)
        self.account.emit("charge.refunded", charge)
        return refund

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _proration(params: Params) -> str:
        behaviour = str(params.get("proration_behavior") or "create_prorations")
        if behaviour not in PRORATIONS:
            raise StripeError(
                400, f"Invalid proration_behavior: {behaviour}", param="proration_behavior"
            )
        return behaviour

    @staticmethod
    def _proration_lines(
        item: StripeObject, quantity: int, proration_date: Any, behaviour: str
    ) -> list[dict[str, Any]]:
        if behaviour == "none" or quantity == item["quantity"]:
            return []
        start, end = item["current_period_start"], item["current_period_end"]
        at = _int(proration_date, "proration_date") if proration_date else int(time.time())
        if not start <= at <= end:
            raise StripeError(
                400, "proration_date must be within the current period.", param="proration_date"
            )
        share = Fraction(end - at, end - start)  # exact: no amount passes through a float
        unit = item["price"]["unit_amount"]
        return [
            {
                "description": f"Unused time on {item['quantity']} seats",
                "amount": -round(item["quantity"] * unit * share),
                "quantity": item["quantity"],
                "proration": True,
            },
            {
                "description": f"Remaining time on {quantity} seats",
                "amount": round(quantity * unit * share),
                "quantity": quantity,
                "proration": True,
            },
        ]

    def _invoice_object(
        self, customer_id: str, subscription_id: str, lines: list[dict[str, Any]], status: str
    ) -> StripeObject:
        return invoice_fields(
            customer_id, subscription_id, lines, status, self._currency_of(subscription_id)
        )

    def _invoice(
        self,
        customer_id: str,
        subscription_id: str | None,
        lines: list[dict[str, Any]],
        status: str,
        method_details: dict[str, Any] | None = None,
    ) -> StripeObject:
        currency = self._currency_of(subscription_id)
        return create_invoice(
            self.account, customer_id, subscription_id, lines, status, currency, method_details
        )

    def _currency_of(self, subscription_id: str | None) -> str:
        """A subscription bills in its price's currency."""
        subscription = self.account.objects.get(subscription_id or "")
        items = ((subscription or {}).get("items") or {}).get("data") or []
        return str(items[0]["price"]["currency"]) if items else "eur"
