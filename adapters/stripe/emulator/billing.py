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
from typing import Any

from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]
PERIOD_SECONDS = 30 * 86400
PRORATIONS = ("create_prorations", "always_invoice", "none")


def refuse_payment_method_types(params: Params) -> None:
    """Since 2026-09-30 (API version 2026-10-28.endive) Stripe picks the payment method types
    from the account's settings and refuses the parameter on SetupIntents and PaymentIntents."""
    if "payment_method_types" in params:
        raise StripeError(
            400,
            "Received unknown parameter: payment_method_types. Since API version "
            "2026-10-28.endive the payment method types come from your account's settings.",
            code="parameter_unknown",
            param="payment_method_types",
        )


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


class Billing:
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
                "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
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
    ) -> StripeObject:
        self.account.get("customer", customer_id, "customer")
        price = self.account.get("price", price_id, "items[0][price]")
        start = int(time.time()) - PERIOD_SECONDS // 3
        subscription = self.account.new(
            "sub",
            "subscription",
            {
                "customer": customer_id,
                "status": "active",
                "billing_cycle_anchor": start,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "metadata": {},
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
                "current_period_end": start + PERIOD_SECONDS,
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
            while item["current_period_end"] < moment:
                item["current_period_start"] = item["current_period_end"]
                item["current_period_end"] += PERIOD_SECONDS
                subscription["pending_invoice_items"] = []

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
        unknown = set(params) - {"cancel_at", "metadata"}
        if unknown:
            raise StripeError(400, f"The emulator does not update {sorted(unknown)}.")
        if "cancel_at" in params:
            subscription["cancel_at"] = _int(params["cancel_at"], "cancel_at")
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

    def pay_invoice_now(self, subscription_id: str) -> StripeObject:
        """A paid invoice for the current period, with its payment: what a demo customer has."""
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
        return self._invoice(subscription["customer"], subscription_id, lines, status="paid")

    def void(self, invoice_id: str) -> StripeObject:
        invoice = self.account.get("invoice", invoice_id)
        if invoice["status"] != "open":
            raise StripeError(
                400,
                f"You can only pass in open invoices. This invoice is {invoice['status']}.",
                code="invoice_not_editable" if invoice["status"] == "paid" else None,
            )
        invoice["status"] = "void"
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
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return self.account.new(
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

    # -- payment intents: the debits being collected -----------------------------------------

    def create_payment_intent(self, params: Params) -> StripeObject:
        """`POST /v1/payment_intents`: a debit of a customer's SEPA method. Confirmed, a SEPA
        debit is `processing` for days (the bank has not answered yet), as at Stripe."""
        refuse_payment_method_types(params)
        amount = _int(params.get("amount"), "amount")
        if amount < 1:
            raise StripeError(400, "Amount must be at least 1 minor unit.", param="amount")
        customer_id = str(params.get("customer") or "")
        self.account.get("customer", customer_id, "customer")
        method_id = str(params.get("payment_method") or "")
        method = self.account.get("payment_method", method_id, "payment_method")
        if method["customer"] != customer_id:
            raise StripeError(
                400,
                f"The payment method {method_id} does not belong to the customer {customer_id}.",
                code="payment_method_unexpected_state",
                param="payment_method",
            )
        intent = self.account.new(
            "pi",
            "payment_intent",
            {
                "amount": amount,
                "currency": str(params.get("currency") or "eur").lower(),
                "customer": customer_id,
                "payment_method": method_id,
                "payment_method_types": [method["type"]],
                "status": "requires_confirmation",
                "latest_charge": None,
                "metadata": params.get("metadata") or {},
                "description": params.get("description"),
            },
        )
        if str(params.get("confirm")).lower() == "true":
            self._start_collecting(intent)
        return intent

    def start_debit(self, customer_id: str, amount: int, currency: str) -> StripeObject:
        """A SEPA debit in flight on the customer's default (or first) SEPA method."""
        customer = self.account.get("customer", customer_id, "customer")
        methods = [
            method
            for method in self.account.all("payment_method")
            if method["customer"] == customer_id and method["type"] == "sepa_debit"
        ]
        default = customer["invoice_settings"]["default_payment_method"]
        chosen = next((m for m in methods if m["id"] == default), methods[0] if methods else None)
        if chosen is None:
            raise StripeError(400, f"The customer {customer_id} has no SEPA payment method.")
        return self.create_payment_intent(
            {
                "customer": customer_id,
                "amount": amount,
                "currency": currency,
                "payment_method": chosen["id"],
                "confirm": "true",
                "description": "Subscription payment (SEPA debit in flight)",
            }
        )

    def settle_debits(self, customer_id: str | None) -> list[StripeObject]:
        """The bank answered: every `processing` debit (of one customer, or all) succeeds."""
        settled = []
        for intent in self.account.all("payment_intent"):
            if intent["status"] == "processing" and customer_id in (None, intent["customer"]):
                intent["status"] = "succeeded"
                charge = self.account.get("charge", intent["latest_charge"])
                charge["status"], charge["paid"] = "succeeded", True
                settled.append(intent)
        return settled

    def payment_intents(self, params: Params) -> list[StripeObject]:
        return [
            intent
            for intent in self.account.all("payment_intent")
            if params.get("customer") in (None, intent["customer"])
        ]

    def _start_collecting(self, intent: StripeObject) -> None:
        charge = self.account.new(
            "ch",
            "charge",
            {
                "amount": intent["amount"],
                "amount_refunded": 0,
                "refunded": False,
                "currency": intent["currency"],
                "customer": intent["customer"],
                "payment_intent": intent["id"],
                "payment_method": intent["payment_method"],
                "paid": False,
                "status": "pending",
            },
        )
        intent["latest_charge"] = charge["id"]
        intent["status"] = "processing"

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
        share = (end - at) / (end - start)
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
        total = sum(line["amount"] for line in lines)
        return {
            "object": "invoice",
            "customer": customer_id,
            "subscription": subscription_id,
            "status": status,
            "currency": "eur",
            "subtotal": total,
            "total": total,
            "amount_due": max(total, 0),
            "lines": {"object": "list", "data": lines, "has_more": False},
        }

    def _invoice(
        self, customer_id: str, subscription_id: str, lines: list[dict[str, Any]], status: str
    ) -> StripeObject:
        fields = self._invoice_object(customer_id, subscription_id, lines, status)
        invoice = self.account.new("in", "invoice", fields)
        invoice["hosted_invoice_url"] = f"https://emulator.invalid/invoices/{invoice['id']}"
        invoice["invoice_pdf"] = f"https://emulator.invalid/invoices/{invoice['id']}/pdf"
        invoice["payment_intent"] = None
        if status == "paid" and invoice["amount_due"] > 0:
            charge = self.account.new(
                "ch",
                "charge",
                {
                    "amount": invoice["amount_due"],
                    "amount_refunded": 0,
                    "refunded": False,
                    "currency": "eur",
                    "customer": customer_id,
                    "paid": True,
                    "status": "succeeded",
                },
            )
            charge["receipt_url"] = f"https://emulator.invalid/receipts/{charge['id']}"
            intent = self.account.new(
                "pi",
                "payment_intent",
                {
                    "amount": invoice["amount_due"],
                    "currency": "eur",
                    "customer": customer_id,
                    "status": "succeeded",
                    "latest_charge": charge["id"],
                },
            )
            charge["payment_intent"] = intent["id"]
            invoice["payment_intent"] = intent["id"]
            invoice["charge"] = charge["id"]
        return invoice
